import { fmtPct, fmtUSDSigned, num } from "../lib/format";

/** Gain or loss: colour plus an arrow and a word, never colour alone. */
export function Pnl({ value, kind = "usd" }: { value: unknown; kind?: "usd" | "pct" }) {
  const n = num(value);
  const text = kind === "usd" ? fmtUSDSigned(value) : fmtPct(value);
  if (n === null || n === 0) return <span>{n === 0 ? text.replace(/^[+-]/, "") : "—"}</span>;
  const up = n > 0;
  return (
    <span className={up ? "text-emerald-800" : "text-red-800"}>
      <span aria-hidden="true">{up ? "▲ " : "▼ "}</span>
      <span className="sr-only">{up ? "gain " : "loss "}</span>
      {text}
    </span>
  );
}

export function ProfitBadge({ profitable }: { profitable: boolean | null | undefined }) {
  if (profitable === null || profitable === undefined) return null;
  return profitable ? (
    <span className="rounded bg-emerald-100 px-2 py-0.5 text-xs font-semibold text-emerald-900">✓ profitable</span>
  ) : (
    <span className="rounded bg-red-100 px-2 py-0.5 text-xs font-semibold text-red-900">✗ loss</span>
  );
}
