import { useSyncExternalStore } from "react";

// A small toast store. (sonner injects a <style> element at import time, which the
// dashboard's CSP — style-src 'self' — refuses; these toasts use the built stylesheet.)
export type ToastKind = "info" | "success" | "error";
export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export function toast(title: string, opts: { kind?: ToastKind; body?: string; ttlMs?: number } = {}): number {
  const id = nextId++;
  const t: Toast = { id, kind: opts.kind ?? "info", title };
  if (opts.body !== undefined) t.body = opts.body;
  toasts = [...toasts, t].slice(-5);
  emit();
  const ttl = opts.ttlMs ?? 10_000;
  if (ttl > 0) setTimeout(() => dismiss(id), ttl);
  return id;
}

export function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useToasts(): Toast[] {
  return useSyncExternalStore(subscribe, () => toasts);
}

const kindClass: Record<ToastKind, string> = {
  info: "border-slate-400 bg-white",
  success: "border-emerald-700 bg-emerald-50",
  error: "border-red-700 bg-red-50",
};
const kindWord: Record<ToastKind, string> = { info: "Info", success: "Done", error: "Error" };

/** Toasts live in a polite live region so screen readers announce them. */
export function Toaster() {
  const list = useToasts();
  return (
    <section aria-label="Notifications" className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-96 max-w-[90vw] flex-col gap-2">
      <div role="status" aria-live="polite" aria-atomic="false" className="flex flex-col gap-2">
        {list.map((t) => (
          <div key={t.id} data-testid="toast" className={`pointer-events-auto rounded border-l-4 p-3 shadow ${kindClass[t.kind]}`}>
            <div className="flex items-start justify-between gap-2">
              <p className="font-semibold">
                <span className="sr-only">{kindWord[t.kind]}: </span>
                {t.title}
              </p>
              <button type="button" className="rounded px-1 text-slate-700 hover:bg-slate-200" onClick={() => dismiss(t.id)} aria-label="Dismiss notification">
                ×
              </button>
            </div>
            {t.body ? <p className="mt-1 text-sm text-slate-800">{t.body}</p> : null}
          </div>
        ))}
      </div>
    </section>
  );
}
