import { useMemo } from "react";
import { useCloses, useTrade } from "../api/queries";
import { Chart, type ChartMarker, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { Pnl, ProfitBadge } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtUSD, num, safeHref } from "../lib/format";

const ts = (s: string | null | undefined) => (s ? Date.parse(s) / 1000 : NaN);
const day = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);
const hold = (s: number) => (s >= 86400 ? `${(s / 86400).toFixed(1)} days` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);

/** The answer to "why did we trade?": everything the bot saw and did for one trade. */
export function TradeWhy({ id }: { id: number }) {
  const { data, isLoading, error } = useTrade(id);
  const t = data?.trade;
  // Market time of the decision: a protective order's own timestamp can be wall-clock time.
  const entry = ts(t?.filled_at ?? data?.signal?.decided_at ?? t?.timestamp);
  const exit = ts(data?.outcome?.closed_at);
  const since = Number.isFinite(entry) ? day(entry - 20 * 86400) : "";
  const until = Number.isFinite(entry) ? day((Number.isFinite(exit) ? exit : entry) + 10 * 86400) : "";
  const closes = useCloses(t?.ticker ?? "", since, until);

  const series = useMemo<ChartSeries[]>(
    () => [{ name: `${t?.ticker ?? ""} close`, data: (closes.data?.days ?? []).map((d) => ({ time: Date.parse(d.day) / 1000, value: num(d.close) ?? NaN })) }],
    [closes.data, t?.ticker],
  );
  const markers = useMemo<ChartMarker[]>(() => {
    if (!data || !t) return [];
    const isEntry = (t.purpose ?? "entry") === "entry";
    const m: ChartMarker[] = [{ time: entry, kind: isEntry ? "entry" : "exit", text: `${t.side} ${fmtNum(t.filled_qty ?? t.qty)} @ ${fmtUSD(t.price)}` }];
    const exitOrder = data.orders.find((o) => o.id === data.outcome?.exit_trade);
    if (isEntry && Number.isFinite(exit)) m.push({ time: exit, kind: "exit", text: `exit${exitOrder?.price ? ` @ ${fmtUSD(exitOrder.price)}` : ""}` });
    for (const o of data.orders) if (o.purpose === "stop_loss" && o.stop_price) m.push({ time: ts(o.filled_at ?? o.submitted_at ?? o.timestamp), kind: "stop", text: `stop ${fmtUSD(o.stop_price)}` });
    for (const a of data.articles) m.push({ time: ts(a.published_at), kind: "news", text: `news ${fmtNum(a.score)}` });
    // A marker must sit on a bar the chart has: snap each to the nearest daily close.
    const times = series[0]!.data.map((p) => p.time).filter(Number.isFinite);
    const ok = m.filter((x) => Number.isFinite(x.time));
    if (times.length === 0) return ok;
    return ok.map((x) => ({ ...x, time: times.reduce((best, v) => (Math.abs(v - x.time) < Math.abs(best - x.time) ? v : best), times[0]!) }));
  }, [data, t, entry, exit, series]);

  if (!data || !t) return <QueryState isLoading={isLoading} error={error} label="the trade detail" />;
  return (
    <div className="grid gap-4 p-2 lg:grid-cols-2" data-testid="trade-why">
      <section aria-label="Decision">
        <h3 className="font-bold">Decision</h3>
        <p className="text-sm">
          <Time value={t.timestamp} /> · {t.side.toUpperCase()} {fmtNum(t.qty)} {t.ticker} · {t.purpose ?? "entry"} · dominant strategy {t.strategy || "—"}
        </p>
        {data.signal ? (
          <p className="text-sm">
            Signal {data.signal.direction}, strength {fmtNum(data.signal.strength)}
            {data.signal.sentiment_score !== null ? <>, sentiment {fmtNum(data.signal.sentiment_score)}</> : null}
            {data.signal.price ? <>, price {fmtUSD(data.signal.price)}</> : null}
          </p>
        ) : (
          <p className="text-sm">No signal (a manual or protective order).</p>
        )}
        <h4 className="mt-2 font-semibold">Strategies at decision time</h4>
        <table className="w-full">
          <thead>
            <tr>
              <th scope="col" className="th">Strategy</th>
              <th scope="col" className="th">Score</th>
              <th scope="col" className="th">Weight</th>
            </tr>
          </thead>
          <tbody>
            {data.contributions.map((s) => (
              <tr key={s.strategy}>
                <th scope="row" className="td text-left font-normal">{s.strategy}</th>
                <td className="td">{fmtNum(s.score)}</td>
                <td className="td">{fmtNum(s.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h4 className="mt-2 font-semibold">News visible then</h4>
        {data.articles.length === 0 ? (
          <p className="text-sm">No scored article was visible.</p>
        ) : (
          <ul className="text-sm">
            {data.articles.map((a) => {
              const href = safeHref(a.url);
              return (
                <li key={`${a.article_id}-${a.score}`} className="border-b border-slate-200 py-1">
                  {href ? (
                    <a href={href} rel="noopener noreferrer nofollow" target="_blank" className="text-blue-800 underline">
                      {a.title}
                    </a>
                  ) : (
                    <span>{a.title}</span>
                  )}
                  <span className="block text-xs text-slate-700">
                    {a.source} · <Time value={a.published_at} /> · score {fmtNum(a.score)} · confidence {fmtNum(a.confidence)} · tier {a.tier} · {a.model}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-label="Orders and outcome">
        <h3 className="font-bold">Orders and fills</h3>
        <table className="w-full">
          <thead>
            <tr>
              <th scope="col" className="th">Time</th>
              <th scope="col" className="th">Event</th>
              <th scope="col" className="th">Status</th>
              <th scope="col" className="th">Filled</th>
              <th scope="col" className="th">Price</th>
            </tr>
          </thead>
          <tbody>
            {data.updates.map((u, i) => (
              <tr key={`${u.trade}-${u.at}-${i}`}>
                <td className="td"><Time value={u.at} /></td>
                <td className="td">{u.event}{u.trade !== t.id ? ` (order ${u.trade})` : ""}</td>
                <td className="td">{u.status}</td>
                <td className="td">{fmtNum(u.filled_qty)}</td>
                <td className="td">{fmtUSD(u.price)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3 className="mt-2 font-bold">Outcome</h3>
        {data.outcome ? (
          <p className="flex flex-wrap items-center gap-2 text-sm" data-testid="outcome">
            ROI <Pnl value={data.outcome.roi_pct / 100} kind="pct" /> · P&L <Pnl value={data.outcome.realized_pnl} /> · held {hold(data.outcome.hold_seconds)}{" "}
            <ProfitBadge profitable={data.outcome.was_profitable} />
          </p>
        ) : (
          <p className="text-sm">Still open (no outcome yet).</p>
        )}
        <div className="mt-2">
          <Chart label={`${t.ticker} daily close with entry, exit, stop and news`} series={series} markers={markers} height={220} valueLabel="Close (USD)" />
        </div>
      </section>
    </div>
  );
}
