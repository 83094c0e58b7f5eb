import { Fragment, useState } from "react";
import { useTrades, type TradeFilter } from "../api/queries";
import { QueryState } from "../components/Metric";
import { Pnl, ProfitBadge } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtUSD } from "../lib/format";
import { TradeWhy } from "./TradeWhy";

export default function Trades() {
  const [filter, setFilter] = useState<TradeFilter>({});
  const [open, setOpen] = useState<number | null>(null);
  const q = useTrades(filter);
  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  const set = (k: "ticker" | "strategy") => (e: React.ChangeEvent<HTMLInputElement>) => setFilter((f) => ({ ...f, [k]: e.target.value.trim() ? (k === "ticker" ? e.target.value.trim().toUpperCase() : e.target.value.trim()) : undefined }));
  return (
    <div className="flex flex-col gap-3">
      <h1 className="text-2xl font-bold">Trade log</h1>
      <form className="card flex flex-wrap items-end gap-3" aria-label="Filter trades" onSubmit={(e) => e.preventDefault()}>
        <label className="flex flex-col text-sm">
          Ticker
          <input className="field" value={filter.ticker ?? ""} onChange={set("ticker")} />
        </label>
        <label className="flex flex-col text-sm">
          Strategy
          <input className="field" value={filter.strategy ?? ""} onChange={set("strategy")} />
        </label>
        <label className="flex flex-col text-sm">
          Side
          <select className="field" value={filter.side ?? ""} onChange={(e) => setFilter((f) => ({ ...f, side: e.target.value === "buy" || e.target.value === "sell" ? e.target.value : undefined }))}>
            <option value="">any</option>
            <option value="buy">buy</option>
            <option value="sell">sell</option>
          </select>
        </label>
        <label className="flex flex-col text-sm">
          Outcome
          <select
            className="field"
            value={filter.profitable === undefined ? "" : String(filter.profitable)}
            onChange={(e) => setFilter((f) => ({ ...f, profitable: e.target.value === "" ? undefined : e.target.value === "true" }))}
          >
            <option value="">any</option>
            <option value="true">profitable</option>
            <option value="false">loss</option>
          </select>
        </label>
      </form>
      <QueryState isLoading={q.isLoading} error={q.error} label="trades" />
      <table className="card w-full">
        <caption className="sr-only">Trades, newest first. Use “Why?” to expand a trade.</caption>
        <thead>
          <tr>
            {["Time", "Ticker", "Side", "Qty", "Price", "Status", "Strategy", "Realised P&L", "Position outcome", ""].map((h, i) => (
              <th key={i} scope="col" className="th">
                {h || <span className="sr-only">Details</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <Fragment key={t.id}>
              <tr data-testid={`trade-${t.id}`} data-ticker={t.ticker}>
                <td className="td"><Time value={t.filled_at ?? t.timestamp} /></td>
                <th scope="row" className="td text-left">{t.ticker}</th>
                <td className="td">{t.side}</td>
                <td className="td">{fmtNum(t.qty)}</td>
                <td className="td">{fmtUSD(t.price)}</td>
                <td className="td">{t.status ?? "—"}</td>
                <td className="td">{t.strategy || "—"}</td>
                <td className="td">{t.pnl === undefined || t.pnl === null ? "—" : <Pnl value={t.pnl} />}</td>
                <td className="td"><ProfitBadge profitable={t.profitable} /></td>
                <td className="td">
                  <button type="button" className="btn" aria-expanded={open === t.id} aria-controls={`why-${t.id}`} onClick={() => setOpen(open === t.id ? null : t.id)}>
                    Why?<span className="sr-only"> trade {t.id} {t.ticker}</span>
                  </button>
                </td>
              </tr>
              {open === t.id ? (
                <tr id={`why-${t.id}`}>
                  <td colSpan={10} className="bg-slate-50">
                    <TradeWhy id={t.id} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !q.isLoading ? <p>No trades yet.</p> : null}
      {q.hasNextPage ? (
        <button type="button" className="btn self-start" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? "Loading…" : "Load older trades"}
        </button>
      ) : null}
    </div>
  );
}
