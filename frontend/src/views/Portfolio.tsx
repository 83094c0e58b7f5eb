import { useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, useControl, useEquity, usePortfolio, usePositions } from "../api/queries";
import { useStepUp } from "../auth/StepUp";
import { Chart, type ChartSeries } from "../components/Chart";
import { Metric, QueryState } from "../components/Metric";
import { Pnl } from "../components/Pnl";
import { Time } from "../components/Time";
import { fmtNum, fmtPct, fmtUSD, num } from "../lib/format";
import { toast } from "../components/toast";

export function TradingControls() {
  const { data } = useControl();
  const confirm = useStepUp();
  const qc = useQueryClient();
  const state = (data?.state ?? "").toLowerCase();
  const after = () => qc.invalidateQueries({ queryKey: ["control"] });
  return (
    <section aria-labelledby="controls-h" className="card">
      <h2 id="controls-h" className="font-bold">
        Trading state: <span data-testid="trading-state">{state ? state.toUpperCase() : "…"}</span>
      </h2>
      {data?.reason ? <p className="text-sm">Reason: {data.reason}</p> : null}
      <div className="mt-2 flex flex-wrap gap-2">
        {state === "active" ? (
          <button type="button" className="btn" onClick={() => void confirm({ action: "pause", title: "Pause trading", detail: "New orders stop until you resume." }, (p) => commands.pause(p, "paused from the dashboard").then(after))}>
            Pause trading
          </button>
        ) : (
          <button type="button" className="btn" onClick={() => void confirm({ action: "resume", title: "Resume trading", detail: "The bot starts placing orders again." }, (p) => commands.resume(p).then(after))}>
            Resume trading
          </button>
        )}
        <button
          type="button"
          className="btn btn-danger"
          onClick={() => void confirm({ action: "kill_switch", title: "Kill switch", detail: "Trading pauses and every open order is cancelled." }, (p) => commands.kill(p, "kill switch from the dashboard").then(after))}
        >
          Kill switch
        </button>
      </div>
    </section>
  );
}

export default function Portfolio() {
  const { data, isLoading, error } = usePortfolio();
  const equity = useEquity();
  const positions = usePositions();
  const confirm = useStepUp();
  const qc = useQueryClient();
  const series = useMemo<ChartSeries[]>(
    () => [{ name: "Equity", data: (equity.data ?? []).map((p) => ({ time: Date.parse(p.time) / 1000, value: num(p.value) ?? NaN })) }],
    [equity.data],
  );
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Portfolio</h1>
      <QueryState isLoading={isLoading} error={error} label="the portfolio" />
      {data ? (
        <>
          {data.as_of ? (
            <p className="text-sm">
              As of <Time value={data.as_of} />
            </p>
          ) : null}
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-4 lg:grid-cols-8">
            <Metric label="Value">{fmtUSD(data.value)}</Metric>
            <Metric label="Daily P&L">
              <Pnl value={data.daily_pnl} />
            </Metric>
            <Metric label="Cash">{fmtUSD(data.cash)}</Metric>
            <Metric label="Exposure">{fmtUSD(data.exposure)}</Metric>
            <Metric label="ROI">
              <Pnl value={data.roi} kind="pct" />
            </Metric>
            <Metric label="Sharpe">{fmtNum(data.sharpe)}</Metric>
            <Metric label="Win rate">{fmtPct(data.win_rate).replace("+", "")}</Metric>
            <Metric label="Drawdown">{fmtPct(data.drawdown).replace("+", "")}</Metric>
          </dl>
          <TradingControls />
          <section className="card">
            <Chart label="Equity curve" series={series} valueLabel="Equity (USD)" />
          </section>
          <section aria-labelledby="pos-h" className="card">
            <h2 id="pos-h" className="mb-2 font-bold">
              Open positions
            </h2>
            <QueryState isLoading={positions.isLoading} error={positions.error} label="positions" />
            {(positions.data ?? []).length === 0 ? (
              <p>No open positions.</p>
            ) : (
              <table className="w-full">
                <thead>
                  <tr>
                    {["Ticker", "Qty", "Entry", "Last", "Unrealised P&L", "Stop", "Opened", ""].map((h) => (
                      <th key={h} scope="col" className="th">
                        {h || <span className="sr-only">Actions</span>}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {(positions.data ?? []).map((p) => (
                    <tr key={p.ticker} data-testid={`position-${p.ticker}`}>
                      <th scope="row" className="td text-left">
                        {p.ticker}
                      </th>
                      <td className="td">{fmtNum(p.qty)}</td>
                      <td className="td">{fmtUSD(p.avg_entry)}</td>
                      <td className="td">{fmtUSD(p.last_price)}</td>
                      <td className="td">
                        <Pnl value={p.unrealized_pnl} />
                      </td>
                      <td className="td">{fmtUSD(p.stop_loss)}</td>
                      <td className="td">
                        <Time value={p.opened_at} />
                      </td>
                      <td className="td">
                        <button
                          type="button"
                          className="btn btn-danger"
                          aria-label={`Force-close ${p.ticker}`}
                          onClick={() =>
                            void confirm(
                              { action: "force_close", target: p.ticker, title: `Force-close ${p.ticker}`, detail: `A market order closes the whole ${p.ticker} position.` },
                              (proof) =>
                                commands.close(proof, p.ticker).then((r) => {
                                  toast(`Close order for ${r.order.ticker}: ${r.order.side} ${r.order.qty} (${r.order.status})`, { kind: "info" });
                                  return qc.invalidateQueries({ queryKey: ["portfolio"] });
                                }),
                            )
                          }
                        >
                          Force-close
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      ) : null}
    </div>
  );
}
