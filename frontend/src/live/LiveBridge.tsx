import { useEffect, useSyncExternalStore } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { getLiveStatus, onLiveEvent, startLive, stopLive, subscribeLiveStatus, type LiveEvent } from "./socket";
import { toast } from "../components/toast";
import { fmtUSD, num } from "../lib/format";

/** Which cached queries an event changes. Views refetch only then; nothing polls. */
export function applyEvent(qc: QueryClient, e: LiveEvent): void {
  const t = e.type;
  const inv = (...k: string[]) => k.forEach((key) => void qc.invalidateQueries({ queryKey: [key] }));
  if (t === "reset") {
    void qc.invalidateQueries();
    return;
  }
  if (t === "trade.executed") {
    inv("trades", "trade", "portfolio");
    const d = e.data;
    const qty = num(d.filled_qty ?? d.qty);
    const price = d.filled_avg_price ?? d.price;
    toast(`Trade executed: ${String(d.side ?? "").toUpperCase()} ${qty ?? ""} ${String(d.ticker ?? d.symbol ?? "")}`.replace(/\s+/g, " ").trim(), {
      kind: "success",
      body: price !== undefined ? `at ${fmtUSD(price)}` : undefined,
    });
  } else if (t === "order.updated") inv("trades", "trade", "portfolio");
  else if (t === "trading.state_changed") inv("control", "portfolio");
  else if (t === "weights.changed") inv("strategies", "weights", "adjustments");
  else if (t === "article.scored") inv("articles", "sentiment");
  else if (t === "signal.generated") inv("signals");
}

export function LiveBridge() {
  const qc = useQueryClient();
  useEffect(() => {
    const off = onLiveEvent((e) => applyEvent(qc, e));
    startLive();
    return () => {
      off();
      stopLive();
    };
  }, [qc]);
  return null;
}

const words = { idle: "Live: off", connecting: "Live: connecting", open: "Live", reconnecting: "Live: reconnecting", closed: "Live: off" } as const;

export function LiveIndicator() {
  const s = useSyncExternalStore(subscribeLiveStatus, getLiveStatus);
  return (
    <span data-testid="live-status" data-state={s} className="flex items-center gap-1">
      <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${s === "open" ? "bg-emerald-700" : "bg-amber-600"}`} />
      {words[s]}
    </span>
  );
}
