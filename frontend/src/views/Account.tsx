import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { deletePasskey, keys, usePasskeys } from "../api/queries";
import { registerPasskey } from "../auth/passkeys";
import { useStepUp } from "../auth/StepUp";
import { QueryState } from "../components/Metric";
import { toast } from "../components/toast";
import { Time } from "../components/Time";

export default function Account() {
  const list = usePasskeys();
  const qc = useQueryClient();
  const confirm = useStepUp();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await registerPasskey({ name: name.trim() || "passkey" });
      toast("Passkey added", { kind: "success" });
      setName("");
      await qc.invalidateQueries({ queryKey: keys.passkeys });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Your passkeys</h1>
      <QueryState isLoading={list.isLoading} error={list.error} label="passkeys" />
      <ul className="card">
        {(list.data ?? []).map((p) => (
          <li key={p.id} className="flex items-center justify-between border-b border-slate-200 py-2" data-testid="passkey">
            <span>
              <strong>{p.name || "passkey"}</strong> · added <Time value={p.created_at} /> · last used <Time value={p.last_used_at} />
            </span>
            <button
              type="button"
              className="btn btn-danger"
              disabled={(list.data ?? []).length < 2}
              title={(list.data ?? []).length < 2 ? "Your only passkey cannot be removed" : undefined}
              onClick={() =>
                void confirm("remove_passkey", `Remove passkey “${p.name}”`, "It will no longer sign you in.", (proof) =>
                  deletePasskey(p.id, proof).then(() => qc.invalidateQueries({ queryKey: keys.passkeys })),
                )
              }
            >
              Remove<span className="sr-only"> {p.name}</span>
            </button>
          </li>
        ))}
      </ul>
      <form className="card flex items-end gap-2" onSubmit={(e) => void add(e)} aria-labelledby="add-h">
        <h2 id="add-h" className="sr-only">Add a passkey</h2>
        <label className="flex flex-col text-sm">
          Name for the new passkey
          <input className="field" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary">Add a passkey</button>
      </form>
      {error ? <p role="alert" className="text-red-900">{error}</p> : null}
    </div>
  );
}
