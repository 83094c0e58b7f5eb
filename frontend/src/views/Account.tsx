import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { deletePasskey, keys, usePasskeys } from "../api/queries";
import { addPasskey } from "../auth/passkeys";
import { QueryState } from "../components/Metric";
import { toast } from "../components/toast";
import { Time } from "../components/Time";

export default function Account() {
  const list = usePasskeys();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: keys.passkeys });
  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await addPasskey(name.trim() || "passkey");
      toast("Passkey added", { kind: "success" });
      setName("");
      await refresh();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: number, label: string) => {
    if (!window.confirm(`Remove the passkey “${label}”? It will no longer sign you in.`)) return;
    setError(null);
    try {
      await deletePasskey(id);
      toast(`Passkey “${label}” removed`, { kind: "success" });
      await refresh();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const items = list.data ?? [];
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Your passkeys</h1>
      <QueryState isLoading={list.isLoading} error={list.error} label="passkeys" />
      <ul className="card">
        {items.map((p) => (
          <li key={p.id} className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 py-2" data-testid="passkey">
            <span>
              <strong>{p.name || "passkey"}</strong> · added <Time value={p.created_at} /> · last used <Time value={p.last_used_at} />
              {p.backup_eligible ? " · synced" : ""}
            </span>
            <button type="button" className="btn btn-danger" disabled={items.length < 2} onClick={() => void remove(p.id, p.name || "passkey")}>
              Remove<span className="sr-only"> {p.name}</span>
            </button>
          </li>
        ))}
      </ul>
      {items.length === 1 ? <p className="text-sm">Your only passkey cannot be removed: add another first.</p> : null}
      <form className="card flex flex-wrap items-end gap-2" onSubmit={(e) => void add(e)} aria-labelledby="add-h">
        <h2 id="add-h" className="w-full font-bold">Add a passkey</h2>
        <label className="flex flex-col text-sm">
          Name for the new passkey
          <input className="field" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Waiting for passkey…" : "Add a passkey"}
        </button>
      </form>
      {error ? <p role="alert" className="text-red-900">{error}</p> : null}
    </div>
  );
}
