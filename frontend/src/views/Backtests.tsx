import { useMemo, useState } from "react";
import { useQueries, useQueryClient } from "@tanstack/react-query";
import { api, must, type S } from "../api/client";
import { createBacktest, keys, useBacktest, useBacktests, useCompare, useStrategies } from "../api/queries";
import { Chart, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { toast } from "../components/toast";
import { Time } from "../components/Time";
import { fmtNum, num } from "../lib/format";

type Detail = S["BacktestDetail"];
type Row = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Row => (v && typeof v === "object" && !Array.isArray(v) ? (v as Row) : {});

/** A strategy's stored config as the API's `[{name, value}]` list (scalar values only). */
const paramList = (v: unknown): S["ParamRequest"][] =>
  Object.entries(obj(v)).flatMap(([name, value]) =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? [{ name, value }] : [],
  );

/** Stored equity points are [iso, value] pairs (or {time, value}). */
const equitySeries = (r: Detail, name = "Equity"): ChartSeries => ({
  name,
  data: list(r.equity_curve).map((p) => {
    const [t, v] = Array.isArray(p) ? p : [obj(p).time, obj(p).value ?? obj(p).equity];
    return { time: Date.parse(String(t)) / 1000, value: num(v) ?? NaN };
  }),
});
/** Weight history entries: {time, weights: {strategy: w}, reason, rewards}. */
const weightSeries = (r: Detail, prefix = ""): ChartSeries[] => {
  const by = new Map<string, ChartSeries>();
  for (const e of list(r.weight_history)) {
    const time = Date.parse(String(obj(e).time)) / 1000;
    for (const [name, w] of Object.entries(obj(obj(e).weights))) {
      const s = by.get(name) ?? { name: `${prefix}${name}`, data: [] };
      s.data.push({ time, value: num(w) ?? NaN });
      by.set(name, s);
    }
  }
  return [...by.values()];
};
const cell = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : typeof v === "number" ? fmtNum(v) : String(v));

function BacktestForm({ onCreated }: { onCreated: (id: number) => void }) {
  const strategies = useStrategies();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const weights: Record<string, number> = {};
    const specs = strategies.data?.strategies.filter((s) => s.active !== false) ?? [];
    for (const s of specs) {
      const v = num(f.get(`w_${s.name}`));
      if (v !== null) weights[s.name] = v;
    }
    const commissionKind = String(f.get("commission_model"));
    const slippageKind = String(f.get("slippage_model"));
    const cv = String(f.get("commission_value") || "0");
    const sv = String(f.get("slippage_value") || "0");
    const body: S["BacktestCreateRequest"] = {
      name: String(f.get("name") ?? ""),
      config: {
        symbols: String(f.get("tickers") ?? "")
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((t) => t.toUpperCase()),
        strategies: specs.map((s) => ({ name: s.name as S["NameEnum"], params: paramList(s.params), weight: weights[s.name] ?? null })),
        start: `${String(f.get("start"))}T00:00:00+00:00`,
        end: `${String(f.get("end"))}T23:59:59+00:00`,
        initial_capital: Number(f.get("capital")),
        // The API takes the CLI form of a cost model: `kind[:value]` (`bps:20`, `per_share:0.005`).
        commission: commissionKind === "none" ? "none" : `${commissionKind}:${cv}`,
        slippage: slippageKind === "none" ? "none" : `${slippageKind}:${sv}`,
        learning: f.get("learning") === "on",
      },
    };
    setBusy(true);
    setError(null);
    try {
      const run = await createBacktest(body);
      toast(`Backtest “${run.name || run.id}” queued`, { kind: "success" });
      onCreated(run.id);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card grid gap-3 md:grid-cols-4" aria-labelledby="bt-form-h" onSubmit={(e) => void submit(e)}>
      <h2 id="bt-form-h" className="font-bold md:col-span-4">New backtest</h2>
      <label className="flex flex-col text-sm">Name<input name="name" className="field" defaultValue="" /></label>
      <label className="flex flex-col text-sm">Start<input name="start" type="date" required className="field" defaultValue="2015-09-01" /></label>
      <label className="flex flex-col text-sm">End<input name="end" type="date" required className="field" defaultValue="2015-10-30" /></label>
      <label className="flex flex-col text-sm">Tickers<input name="tickers" required className="field" defaultValue="AAPL MSFT" /></label>
      <label className="flex flex-col text-sm">Capital (USD)<input name="capital" type="number" min="100" step="100" required className="field" defaultValue="100000" /></label>
      <fieldset className="flex gap-2 text-sm">
        <legend>Commission</legend>
        <select name="commission_model" className="field" aria-label="Commission model" defaultValue="per_share">
          <option value="none">none</option>
          <option value="per_share">per share (USD)</option>
          <option value="per_order">per order (USD)</option>
          <option value="bps">basis points of value</option>
        </select>
        <input name="commission_value" type="number" step="any" min="0" className="field w-24" aria-label="Commission value" defaultValue="0.005" />
      </fieldset>
      <fieldset className="flex gap-2 text-sm">
        <legend>Slippage</legend>
        <select name="slippage_model" className="field" aria-label="Slippage model" defaultValue="bps">
          <option value="none">none</option>
          <option value="bps">basis points</option>
          <option value="spread">spread (bps)</option>
          <option value="volume">volume impact</option>
        </select>
        <input name="slippage_value" type="number" step="any" min="0" className="field w-24" aria-label="Slippage value" defaultValue="5" />
      </fieldset>
      <label className="flex items-center gap-2 text-sm"><input name="learning" type="checkbox" defaultChecked /> Learning on</label>
      <fieldset className="flex flex-wrap gap-2 text-sm md:col-span-4">
        <legend>Initial weights (blank: the strategy's default)</legend>
        {(strategies.data?.strategies ?? []).filter((s) => s.active !== false).map((s) => (
          <label key={s.name} className="flex flex-col">
            {s.name}
            <input name={`w_${s.name}`} type="number" step="any" min="0" className="field w-28" placeholder={fmtNum(s.weight)} />
          </label>
        ))}
      </fieldset>
      {error ? <p role="alert" className="text-red-900 md:col-span-4">{error}</p> : null}
      <div className="md:col-span-4">
        <button type="submit" className="btn btn-primary" disabled={busy}>{busy ? "Queuing…" : "Run backtest"}</button>
      </div>
    </form>
  );
}

function Metrics({ runs }: { runs: { id: number; name?: string; metrics?: unknown }[] }) {
  const names = [...new Set(runs.flatMap((r) => Object.keys(obj(r.metrics)).filter((k) => typeof obj(r.metrics)[k] !== "object")))].sort();
  return (
    <table className="w-full">
      <thead>
        <tr>
          <th scope="col" className="th">Metric</th>
          {runs.map((r) => (
            <th key={r.id} scope="col" className="th">{r.name || `Run ${r.id}`}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {names.map((k) => (
          <tr key={k}>
            <th scope="row" className="td text-left font-normal">{k.replace(/_/g, " ")}</th>
            {runs.map((r) => (
              <td key={r.id} className="td">{cell(obj(r.metrics)[k])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunDetail({ id }: { id: number }) {
  const { data: r, isLoading, error } = useBacktest(id);
  const eq = useMemo(() => (r ? [equitySeries(r)] : []), [r]);
  const ws = useMemo(() => (r ? weightSeries(r) : []), [r]);
  const trades = useMemo(() => list(r?.trades).map(obj), [r]);
  const cols = Object.keys(trades[0] ?? {}).slice(0, 10);
  if (!r) return <QueryState isLoading={isLoading} error={error} label="the run" />;
  return (
    <section className="card flex flex-col gap-3" aria-labelledby="run-h" data-testid="run-detail">
      <h2 id="run-h" className="font-bold">
        Results: {r.name || `run ${r.id}`} ({r.status})
      </h2>
      {r.status === "queued" || r.status === "running" ? (
        <p>
          <progress max={100} value={Math.round((r.progress ?? 0) * 100)} aria-label="Run progress" className="mr-2 align-middle" />
          {Math.round((r.progress ?? 0) * 100)}%
        </p>
      ) : null}
      {r.error ? <p role="alert">{r.error}</p> : null}
      <Metrics runs={[r]} />
      <Chart label="Backtest equity" series={eq} valueLabel="Equity (USD)" />
      <Chart label="Backtest weight history" series={ws} valueLabel="Weight" />
      <details>
        <summary className="cursor-pointer font-semibold">Trade log ({trades.length})</summary>
        <div className="max-h-72 overflow-auto" tabIndex={0} role="region" aria-label="Backtest trades">
          <table className="w-full text-sm">
            <thead>
              <tr>{cols.map((k) => <th key={k} scope="col" className="th">{k.replace(/_/g, " ")}</th>)}</tr>
            </thead>
            <tbody>
              {trades.slice(0, 500).map((t, i) => (
                <tr key={i}>
                  {cols.map((k) => (
                    <td key={k} className="td">{cell(t[k])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
      <details>
        <summary className="cursor-pointer font-semibold">Attribution</summary>
        <table className="w-full text-sm">
          <tbody>
            {Object.entries(obj(r.attribution)).map(([k, v]) => (
              <tr key={k}>
                <th scope="row" className="td text-left font-normal">{k}</th>
                <td className="td">{cell(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function Compare({ ids }: { ids: number[] }) {
  const { data, isLoading, error } = useCompare(ids);
  const details = useQueries({
    queries: ids.map((id) => ({ queryKey: keys.backtest(id), queryFn: () => must(api.GET("/api/backtests/{run_id}", { params: { path: { run_id: id } } })) })),
  });
  const runs = useMemo(() => data?.runs ?? [], [data]);
  // Equity curves aligned by the API on the union of their timestamps (carried forward).
  const eq = useMemo<ChartSeries[]>(
    () =>
      runs.map((r, i) => ({
        name: r.name || `Run ${r.id}`,
        data: (data?.points ?? []).map((p) => ({ time: Date.parse(p.time) / 1000, value: p.values[i] ?? NaN })),
      })),
    [runs, data],
  );
  const ws = useMemo(
    () => details.flatMap((d) => (d.data ? weightSeries(d.data, `${d.data.name || `Run ${d.data.id}`}: `) : [])),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [details.map((d) => d.dataUpdatedAt).join(",")],
  );
  return (
    <section className="card flex flex-col gap-3" aria-labelledby="cmp-h" data-testid="compare">
      <h2 id="cmp-h" className="font-bold">Comparison of {ids.length} runs</h2>
      <QueryState isLoading={isLoading} error={error} label="the comparison" />
      {runs.length ? (
        <>
          <Metrics runs={runs} />
          <Chart label="Equity curves, aligned" series={eq} valueLabel="Equity (USD)" />
          <Chart label="Weight trajectories, aligned" series={ws} valueLabel="Weight" />
        </>
      ) : null}
    </section>
  );
}

export default function Backtests() {
  const runs = useBacktests();
  const qc = useQueryClient();
  const [selected, setSelected] = useState<number | null>(null);
  const [compare, setCompare] = useState<number[]>([]);
  const [comparing, setComparing] = useState<number[]>([]);
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Backtesting</h1>
      <BacktestForm
        onCreated={(id) => {
          setSelected(id);
          void qc.invalidateQueries({ queryKey: ["backtests"] });
        }}
      />
      <section className="card" aria-labelledby="runs-h">
        <h2 id="runs-h" className="mb-2 font-bold">Runs</h2>
        <QueryState isLoading={runs.isLoading} error={runs.error} label="runs" />
        <table className="w-full">
          <thead>
            <tr>
              {["Compare", "Run", "Status", "Progress", "Created", ""].map((h) => (
                <th key={h} scope="col" className="th">{h || <span className="sr-only">Open</span>}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(runs.data?.results ?? []).map((r) => {
              const p = Math.round((r.progress ?? 0) * 100);
              const label = r.name || `Run ${r.id}`;
              return (
                <tr key={r.id} data-testid={`run-${r.id}`} data-status={r.status}>
                  <td className="td">
                    <input
                      type="checkbox"
                      aria-label={`Compare ${label}`}
                      checked={compare.includes(r.id)}
                      onChange={(e) => setCompare((c) => (e.target.checked ? [...c, r.id] : c.filter((x) => x !== r.id)))}
                    />
                  </td>
                  <th scope="row" className="td text-left">{label}</th>
                  <td className="td">{r.status}</td>
                  <td className="td">
                    <progress max={100} value={p} aria-label={`${label} progress`} className="mr-2 align-middle" />
                    {p}%
                  </td>
                  <td className="td"><Time value={r.created_at} /></td>
                  <td className="td">
                    <button type="button" className="btn" onClick={() => setSelected(r.id)}>
                      Open<span className="sr-only"> {label}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <button type="button" className="btn mt-2" disabled={compare.length < 2} onClick={() => setComparing([...compare].sort((a, b) => a - b))}>
          Compare selected ({compare.length})
        </button>
      </section>
      {comparing.length >= 2 ? <Compare ids={comparing} /> : null}
      {selected !== null ? <RunDetail id={selected} /> : null}
    </div>
  );
}
