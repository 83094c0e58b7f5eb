import { useControl } from "../api/queries";

/** A permanent banner while trading is paused or HALTED, with the reason. */
export function TradingBanner() {
  const { data } = useControl();
  const state = (data?.state ?? "").toLowerCase();
  if (!data || state === "active") return null;
  const halted = state === "halted";
  return (
    <div
      role="alert"
      data-testid="trading-banner"
      className={`border-b-4 px-4 py-2 text-center font-semibold ${halted ? "border-red-900 bg-red-100 text-red-950" : "border-amber-700 bg-amber-100 text-amber-950"}`}
    >
      Trading is {halted ? "HALTED" : "PAUSED"}
      {data.reason ? <>: {data.reason}</> : null}
      {data.kill_switch ? <> (kill switch: open orders were cancelled)</> : null}
    </div>
  );
}
