import { useMemo } from "react";
import { useBars, useTrade } from "../api/queries";
import { Chart, type ChartMarker, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { Pnl, ProfitBadge } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtUSD, num, safeHref } from "../lib/format";

const ts = (s: string | null | undefined) => (s ? Date.parse(s) / 1000 : NaN);

/** The answer to "why did we trade?": everything the bot saw and did for one trade. */
export function TradeWhy({ id }: { id: number }) {
  const { data: t, isLoading, error } = useTrade(id);
  const from = t ? new Date((ts(t.timestamp) - 5 * 86400) * 1000).toISOString() : "";
  const to = t ? new Date((Math.max(ts(t.exit_at ?? t.outcome?.closed_at ?? t.timestamp), ts(t.timestamp)) + 3 * 86400) * 1000).toISOString() : "";
  const bars = useBars(t?.ticker ?? "", from, to);

  const series = useMemo<ChartSeries[]>(() => [{ name: `${t?.ticker ?? ""} close`, data: (bars.data ?? []).map((b) => ({ time: ts(b.time), value: num(b.close) ?? NaN })) }], [bars.data, t?.ticker]);
  const markers = useMemo<ChartMarker[]>(() => {
    if (!t) return [];
    const m: ChartMarker[] = [{ time: ts(t.filled_at ?? t.timestamp), kind: "entry", text: `${t.side} ${fmtNum(t.qty)} @ ${fmtUSD(t.price)}` }];
    const exitAt = t.exit_at ?? t.outcome?.closed_at;
    if (exitAt) m.push({ time: ts(exitAt), kind: "exit", text: `exit @ ${fmtUSD(t.exit_price ?? t.outcome?.exit_price)}` });
    if (t.stop_price !== undefined && t.stop_price !== null) m.push({ time: ts(t.filled_at ?? t.timestamp), kind: "stop", text: `stop ${fmtUSD(t.stop_price)}` });
    for (const a of t.articles) if (a.published_at) m.push({ time: ts(a.published_at), kind: "news", text: `news ${fmtNum(a.score)}` });
    // A marker must sit on a bar the chart knows: snap each to the nearest bar time.
    const times = (bars.data ?? []).map((b) => ts(b.time)).filter(Number.isFinite);
    if (times.length === 0) return m.filter((x) => Number.isFinite(x.time));
    return m
      .filter((x) => Number.isFinite(x.time))
      .map((x) => ({ ...x, time: times.reduce((best, v) => (Math.abs(v - x.time) < Math.abs(best - x.time) ? v : best), times[0]!) }));
  }, [t, bars.data]);

  if (!t) return <QueryState isLoading={isLoading} error={error} label="the trade detail" />;
  return (
    <div className="grid gap-4 p-2 lg:grid-cols-2" data-testid="trade-why">
      <section aria-label="Decision">
        <h3 className="font-bold">Decision</h3>
        <p className="text-sm">
          <Time value={t.timestamp} /> · {t.side.toUpperCase()} {fmtNum(t.qty)} {t.ticker} · dominant strategy {t.strategy || "—"}
        </p>
        {t.signal ? (
          <p className="text-sm">
            Signal {t.signal.direction}, strength {fmtNum(t.signal.strength)}
            {t.signal.sentiment_score !== undefined ? <>, sentiment {fmtNum(t.signal.sentiment_score)}</> : null}
          </p>
        ) : null}
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
            {t.strategies.map((s) => (
              <tr key={s.strategy}>
                <th scope="row" className="td text-left font-normal">{s.strategy}</th>
                <td className="td">{fmtNum(s.score)}</td>
                <td className="td">{fmtNum(s.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h4 className="mt-2 font-semibold">News visible then</h4>
        {t.articles.length === 0 ? (
          <p className="text-sm">No scored article was visible.</p>
        ) : (
          <ul className="text-sm">
            {t.articles.map((a, i) => {
              const href = safeHref(a.url);
              return (
                <li key={a.id ?? i} className="border-b border-slate-200 py-1">
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
              <th scope="col" className="th">Qty</th>
              <th scope="col" className="th">Price</th>
            </tr>
          </thead>
          <tbody>
            {t.updates.map((u, i) => (
              <tr key={`${u.at}-${i}`}>
                <td className="td"><Time value={u.at} /></td>
                <td className="td">{u.event}</td>
                <td className="td">{u.status}</td>
                <td className="td">{fmtNum(u.qty)}</td>
                <td className="td">{fmtUSD(u.price)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3 className="mt-2 font-bold">Outcome</h3>
        {t.outcome ? (
          <p className="flex flex-wrap items-center gap-2 text-sm">
            ROI <Pnl value={num(t.outcome.roi_pct) === null ? null : num(t.outcome.roi_pct)! / 100} kind="pct" /> · P&L <Pnl value={t.outcome.pnl} /> <ProfitBadge profitable={t.outcome.was_profitable} />
          </p>
        ) : (
          <p className="text-sm">Still open (no outcome yet).</p>
        )}
        <div className="mt-2">
          <Chart label={`${t.ticker} price with entry, exit, stop and news`} series={series} markers={markers} height={220} valueLabel="Close (USD)" />
        </div>
      </section>
    </div>
  );
}
