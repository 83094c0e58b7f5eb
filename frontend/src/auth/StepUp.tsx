import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { stepUp } from "./passkeys";
import { toast } from "../components/toast";
import type { S } from "../api/client";

type Action = S["ActionEnum"];
interface Pending {
  action: Action;
  target: string;
  title: string;
  detail: string;
  run: (proof: string) => Promise<unknown>;
  resolve: (ok: boolean) => void;
}
type Confirm = (step: { action: Action; target?: string; title: string; detail: string }, run: (proof: string) => Promise<unknown>) => Promise<boolean>;

const Ctx = createContext<Confirm | null>(null);

export function useStepUp(): Confirm {
  const c = useContext(Ctx);
  if (!c) throw new Error("useStepUp outside StepUpProvider");
  return c;
}

/**
 * Dangerous actions (pause, resume, kill switch, force-close, reset weights, freeze
 * learning) go through this dialog: the user confirms with a fresh passkey assertion bound
 * to that one action, and only then is the request sent, carrying the proof.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  const confirm = useCallback<Confirm>(
    (step, run) =>
      new Promise<boolean>((resolve) => {
        setError(null);
        setPending({ action: step.action, target: step.target ?? "", title: step.title, detail: step.detail, run, resolve });
      }),
    [],
  );

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (pending && !d.open) d.showModal?.();
    if (!pending && d.open) d.close?.();
  }, [pending]);

  const close = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(null);
    setBusy(false);
  };

  const go = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      const proof = await stepUp(pending.action, pending.target);
      await pending.run(proof);
      toast(`${pending.title}: done`, { kind: "success" });
      close(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <Ctx.Provider value={confirm}>
      {children}
      <dialog
        ref={dialog}
        aria-labelledby="stepup-title"
        aria-describedby="stepup-detail"
        className="m-auto w-[28rem] max-w-[92vw] rounded-lg p-5 shadow-xl backdrop:bg-slate-900/50"
        onCancel={(e) => {
          e.preventDefault();
          if (!busy) close(false);
        }}
      >
        {pending ? (
          <div>
            <h2 id="stepup-title" className="text-lg font-bold">
              Confirm: {pending.title}
            </h2>
            <p id="stepup-detail" className="mt-2 text-sm">
              {pending.detail} This needs a fresh check with your passkey.
            </p>
            {error ? (
              <p role="alert" className="mt-2 rounded bg-red-50 p-2 text-sm text-red-900">
                {error}
              </p>
            ) : null}
            <div className="mt-4 flex justify-end gap-2">
              <button type="button" className="btn" onClick={() => close(false)} disabled={busy}>
                Cancel
              </button>
              <button type="button" className="btn btn-danger" onClick={go} disabled={busy}>
                {busy ? "Waiting for passkey…" : "Confirm with passkey"}
              </button>
            </div>
          </div>
        ) : null}
      </dialog>
    </Ctx.Provider>
  );
}
