import type { ReactNode } from "react";

export function Metric({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="card">
      <dt className="text-xs font-semibold uppercase text-slate-700">{label}</dt>
      <dd className="mt-1 text-xl font-bold">{children}</dd>
    </div>
  );
}

export function QueryState({ isLoading, error, label }: { isLoading: boolean; error: unknown; label: string }) {
  if (isLoading) return <p role="status">Loading {label}…</p>;
  if (error) return <p role="alert" className="text-red-900">Could not load {label}: {error instanceof Error ? error.message : String(error)}</p>;
  return null;
}
