import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { registerFromLink } from "../auth/passkeys";

/** Registration from a one-time link: the code is read once and removed from the address bar. */
export function takeCode(): string {
  const url = new URL(window.location.href);
  const code = url.searchParams.get("token") ?? "";
  if (url.search || url.hash) window.history.replaceState(null, "", url.pathname);
  return code;
}

let captured: string | null = null;

export default function Register() {
  const [code] = useState(() => (captured ??= takeCode()));
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  useEffect(() => () => void (captured = null), []);
  const go = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await registerFromLink(code, name.trim() || "first passkey");
      navigate("/", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="mx-auto mt-24 max-w-sm card">
      <h1 className="text-2xl font-bold">Create your passkey</h1>
      {code ? (
        <form onSubmit={(e) => void go(e)} className="mt-3 flex flex-col gap-3">
          <label className="flex flex-col text-sm">
            Name for this passkey
            <input className="field" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Waiting for passkey…" : "Create passkey"}
          </button>
        </form>
      ) : (
        <p role="alert" className="mt-3">This page needs the one-time link printed by <code>manage.py</code>.</p>
      )}
      {error ? <p role="alert" className="mt-3 text-sm text-red-900">{error}</p> : null}
    </main>
  );
}
