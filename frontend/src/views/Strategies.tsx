import { useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { command, commands, useAdjustments, useLearning, useStrategies, useWeights } from "../api/queries";
import { useStepUp } from "../auth/StepUp";
import { Chart, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { Pnl } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtPct, num } from "../lib/format";

export default function Strategies() {
  const strategies = useStrategies();
  const weights = useWeights();
  const adjustments = useAdjustments();
  const learning = useLearning();
  const confirm = useStepUp();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: ["learning"] }).then(() => qc.invalidateQueries({ queryKey: ["strategies"] }));

  const series = useMemo<ChartSeries[]>(() => {
    const by = new Map<string, ChartSeries>();
    for (const w of weights.data ?? []) {
      const s = by.get(w.strategy) ?? { name: w.strategy, data: [] };
      s.data.push({ time: Date.parse(w.timestamp) / 1000, value: num(w.weight) ?? NaN });
      by.set(w.strategy, s);
    }
    return [...by.values()];
  }, [weights.data]);
  const total = (strategies.data ?? []).reduce((a, s) => a + (num(s.weight) ?? 0), 0) || 1;

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Strategy performance</h1>
      <QueryState isLoading={strategies.isLoading} error={strategies.error} label="strategies" />
      <section className="card" aria-labelledby="learn-h">
        <h2 id="learn-h" className="font-bold">
          Learning is {learning.data?.frozen ? "FROZEN" : "on"}
        </h2>
        {learning.data?.reason ? <p className="text-sm">Reason: {learning.data.reason}</p> : null}
        <div className="mt-2 flex gap-2">
          {learning.data?.frozen ? (
            <button type="button" className="btn" onClick={() => void confirm("unfreeze_learning", "Unfreeze learning", "Weights will adapt to outcomes again.", (p) => command(commands.unfreeze, p).then(refresh))}>
              Unfreeze learning
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => void confirm("freeze_learning", "Freeze learning", "Weights stay where they are until you unfreeze.", (p) => command(commands.freeze, p, { reason: "frozen from the dashboard" }).then(refresh))}>
              Freeze learning
            </button>
          )}
          <button type="button" className="btn btn-danger" onClick={() => void confirm("reset_weights", "Reset weights", "Every strategy goes back to its initial weight.", (p) => command(commands.resetWeights, p).then(refresh))}>
            Reset weights
          </button>
        </div>
      </section>
      {strategies.data ? (
        <section className="card" aria-labelledby="alloc-h">
          <h2 id="alloc-h" className="mb-2 font-bold">Metrics and weight allocation</h2>
          <table className="w-full">
            <thead>
              <tr>
                {["Strategy", "Weight", "Allocation", "Trades", "Win rate", "Sharpe", "P&L"].map((h) => (
                  <th key={h} scope="col" className="th">{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {strategies.data.map((s) => {
                const share = (num(s.weight) ?? 0) / total;
                return (
                  <tr key={s.name}>
                    <th scope="row" className="td text-left">
                      {s.name}
                      {s.active ? null : <span className="ml-1 text-xs">(inactive)</span>}
                    </th>
                    <td className="td">{fmtNum(s.weight)}</td>
                    <td className="td">
                      <div className="flex items-center gap-2">
                        <div className="h-3 w-32 bg-slate-200" aria-hidden="true">
                          <div className="h-3 bg-blue-800" style={{ width: `${Math.round(share * 100)}%` }} />
                        </div>
                        <span>{fmtPct(share).replace("+", "")}</span>
                      </div>
                    </td>
                    <td className="td">{s.trades ?? "—"}</td>
                    <td className="td">{fmtPct(s.win_rate).replace("+", "")}</td>
                    <td className="td">{fmtNum(s.sharpe)}</td>
                    <td className="td"><Pnl value={s.pnl} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ) : null}
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
