import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { signInWithPasskey } from "../auth/passkeys";

export default function SignIn() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get("next");
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await signInWithPasskey();
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="mx-auto mt-24 max-w-sm card">
      <h1 className="text-2xl font-bold">Sign in to tradebot</h1>
      <p className="mt-2 text-sm">Use your passkey. There are no passwords.</p>
      <button type="button" className="btn btn-primary mt-4" onClick={() => void go()} disabled={busy}>
        {busy ? "Waiting for passkey…" : "Sign in with a passkey"}
      </button>
      {error ? <p role="alert" className="mt-3 text-sm text-red-900">{error}</p> : null}
    </main>
  );
}
