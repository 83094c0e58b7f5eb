import { useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, useAdjustments, useStrategies, useStrategyMetrics, useWeights } from "../api/queries";
import { useStepUp } from "../auth/StepUp";
import { Chart, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { Pnl } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtPct, num } from "../lib/format";

export default function Strategies() {
  const strategies = useStrategies();
  const weights = useWeights();
  const metrics = useStrategyMetrics();
  const adjustments = useAdjustments();
  const confirm = useStepUp();
  const qc = useQueryClient();
  const refresh = () => Promise.all(["strategies", "weights", "adjustments"].map((k) => qc.invalidateQueries({ queryKey: [k] })));
  const list = strategies.data?.strategies ?? [];
  const frozen = strategies.data?.learning_frozen ?? false;

  const series = useMemo<ChartSeries[]>(() => {
    const by = new Map<string, ChartSeries>();
    for (const w of [...(weights.data?.results ?? [])].reverse()) {
      const s = by.get(w.strategy) ?? { name: w.strategy, data: [] };
      s.data.push({ time: Date.parse(w.timestamp) / 1000, value: num(w.new_weight) ?? NaN });
      by.set(w.strategy, s);
    }
    return [...by.values()];
  }, [weights.data]);
  const perf = useMemo(() => {
    const pnl = new Map<string, ChartSeries>();
    const win = new Map<string, ChartSeries>();
    for (const m of [...(metrics.data?.results ?? [])].reverse()) {
      const time = Date.parse(m.time) / 1000;
      const a = pnl.get(m.strategy) ?? { name: m.strategy, data: [] };
      a.data.push({ time, value: num(m.pnl) ?? NaN });
      pnl.set(m.strategy, a);
      const b = win.get(m.strategy) ?? { name: m.strategy, data: [] };
      b.data.push({ time, value: m.win_rate });
      win.set(m.strategy, b);
    }
    return { pnl: [...pnl.values()], win: [...win.values()] };
  }, [metrics.data]);
  const total = list.reduce((a, s) => a + (num(s.weight) ?? 0), 0) || 1;

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Strategy performance</h1>
      <QueryState isLoading={strategies.isLoading} error={strategies.error} label="strategies" />
      <section className="card" aria-labelledby="learn-h">
        <h2 id="learn-h" className="font-bold">
          Learning is {frozen ? "FROZEN" : "on"}
        </h2>
        {strategies.data?.learning_reason ? <p className="text-sm">Reason: {strategies.data.learning_reason}</p> : null}
        <div className="mt-2 flex gap-2">
          {frozen ? (
            <button type="button" className="btn" onClick={() => void confirm({ action: "learning_freeze", title: "Unfreeze learning", detail: "Weights will adapt to outcomes again." }, (p) => commands.freeze(p, false, "unfrozen from the dashboard").then(refresh))}>
              Unfreeze learning
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => void confirm({ action: "learning_freeze", title: "Freeze learning", detail: "Weights stay where they are until you unfreeze." }, (p) => commands.freeze(p, true, "frozen from the dashboard").then(refresh))}>
              Freeze learning
            </button>
          )}
          <button type="button" className="btn btn-danger" onClick={() => void confirm({ action: "weights_reset", title: "Reset weights", detail: "Every strategy goes back to its initial weight." }, (p) => commands.resetWeights(p, "reset from the dashboard").then(refresh))}>
            Reset weights
          </button>
        </div>
      </section>
      {list.length ? (
        <section className="card" aria-labelledby="alloc-h">
          <h2 id="alloc-h" className="mb-2 font-bold">Metrics and weight allocation</h2>
          <table className="w-full">
            <thead>
              <tr>
                {["Strategy", "Weight", "Initial", "Allocation", "Trades", "Win rate", "Sharpe", "P&L"].map((h) => (
                  <th key={h} scope="col" className="th">{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {list.map((s) => {
                const share = (num(s.weight) ?? 0) / total;
                const m = (s.latest ?? {}) as Record<string, unknown>;
                return (
                  <tr key={s.name}>
                    <th scope="row" className="td text-left">
                      {s.name}
                      {s.active ? null : <span className="ml-1 text-xs">(inactive)</span>}
                    </th>
                    <td className="td">{fmtNum(s.weight)}</td>
                    <td className="td">{fmtNum(s.initial_weight)}</td>
                    <td className="td">
                      <div className="flex items-center gap-2">
                        <div className="h-3 w-32 bg-slate-200" aria-hidden="true">
                          <div className="h-3 bg-blue-800" style={{ width: `${Math.round(share * 100)}%` }} />
                        </div>
                        <span>{fmtPct(share).replace("+", "")}</span>
                      </div>
                    </td>
                    <td className="td">{fmtNum(m.trades)}</td>
                    <td className="td">{fmtPct(m.win_rate).replace("+", "")}</td>
                    <td className="td">{fmtNum(m.sharpe)}</td>
                    <td className="td"><Pnl value={m.pnl} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ) : null}
      <section className="card grid gap-4 lg:grid-cols-2">
        <Chart label="P&L per strategy over time" series={perf.pnl} valueLabel="P&L (USD)" />
        <Chart label="Win rate per strategy over time" series={perf.win} valueLabel="Win rate" />
      </section>
      <section className="card">
        <Chart label="Weight history" series={series} valueLabel="Weight" />
      </section>
      <section className="card" aria-labelledby="adj-h">
        <h2 id="adj-h" className="mb-2 font-bold">Adjustments log</h2>
        <QueryState isLoading={adjustments.isLoading} error={adjustments.error} label="adjustments" />
        <table className="w-full">
          <thead>
            <tr>
              {["Time", "Strategy", "Old", "New", "Reward", "Reason"].map((h) => (
                <th key={h} scope="col" className="th">{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(adjustments.data?.results ?? []).map((a, i) => (
              <tr key={`${a.timestamp}-${a.strategy}-${i}`}>
                <td className="td"><Time value={a.timestamp} /></td>
                <td className="td">{a.strategy}</td>
                <td className="td">{fmtNum(a.old_weight)}</td>
                <td className="td">{fmtNum(a.new_weight)}</td>
                <td className="td">{fmtNum(a.reward_signal)}</td>
                <td className="td">{a.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
