import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, must, type S } from "./client";
import { idempotencyKey } from "./http";

export const keys = {
  control: ["control"] as const,
  portfolio: ["portfolio"] as const,
  equity: ["portfolio", "equity"] as const,
  positions: ["portfolio", "positions"] as const,
  trades: (f: object) => ["trades", f] as const,
  trade: (id: number) => ["trade", id] as const,
  closes: (t: string, since: string, until: string) => ["closes", t, since, until] as const,
  strategies: ["strategies"] as const,
  weights: ["weights"] as const,
  adjustments: ["adjustments"] as const,
  articles: (f: object) => ["articles", f] as const,
  sentiment: (t: string) => ["sentiment", t] as const,
  backtests: ["backtests"] as const,
  backtest: (id: number) => ["backtest", id] as const,
  compare: (ids: number[]) => ["compare", ids] as const,
  passkeys: ["passkeys"] as const,
};

export const useControl = () => useQuery({ queryKey: keys.control, queryFn: () => must(api.GET("/api/control")) });
export const usePortfolio = () => useQuery({ queryKey: keys.portfolio, queryFn: () => must(api.GET("/api/portfolio")) });
export const useEquity = () => useQuery({ queryKey: keys.equity, queryFn: () => must(api.GET("/api/portfolio/equity", { params: { query: { points: 500 } } })) });
export const usePositions = () => useQuery({ queryKey: keys.positions, queryFn: () => must(api.GET("/api/portfolio/positions")) });

export interface TradeFilter {
  ticker?: string;
  strategy?: string;
  side?: "buy" | "sell";
  profitable?: boolean;
}
/** Follows the API's `next` cursor as given (same origin), with the typed client. */
export const useTrades = (f: TradeFilter) =>
  useInfiniteQuery({
    queryKey: keys.trades(f),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => {
      const cursor = pageParam ? (new URL(pageParam, location.href).searchParams.get("cursor") ?? undefined) : undefined;
      return must(api.GET("/api/trades", { params: { query: { ...f, ...(cursor ? { cursor } : {}), limit: 50 } } }));
    },
    getNextPageParam: (last) => last.next ?? null,
  });
export const useTrade = (id: number) => useQuery({ queryKey: keys.trade(id), queryFn: () => must(api.GET("/api/trades/{trade_id}", { params: { path: { trade_id: id } } })) });
/** Daily closes of a ticker (the sentiment series carries them). */
export const useCloses = (ticker: string, since: string, until: string) =>
  useQuery({
    queryKey: keys.closes(ticker, since, until),
    enabled: ticker !== "" && since !== "",
    queryFn: () => must(api.GET("/api/news/sentiment/{ticker}", { params: { path: { ticker }, query: { since, until } } })),
  });

export const useStrategies = () => useQuery({ queryKey: keys.strategies, queryFn: () => must(api.GET("/api/strategies")) });
export const useStrategyMetrics = () =>
  useQuery({ queryKey: ["strategies", "metrics"], queryFn: () => must(api.GET("/api/strategies/metrics", { params: { query: { limit: 200 } } })) });
export const useWeights = () =>
  useQuery({ queryKey: keys.weights, queryFn: () => must(api.GET("/api/strategies/weights/history", { params: { query: { limit: 200 } } })) });
export const useAdjustments = () =>
  useQuery({ queryKey: keys.adjustments, queryFn: () => must(api.GET("/api/strategies/adjustments", { params: { query: { limit: 100 } } })) });

export const useArticles = (f: { ticker?: string; source?: string }) =>
  useQuery({ queryKey: keys.articles(f), queryFn: () => must(api.GET("/api/news/articles", { params: { query: { ...f, limit: 50 } } })) });
export const useSentiment = (ticker: string) =>
  useQuery({ queryKey: keys.sentiment(ticker), enabled: ticker !== "", queryFn: () => must(api.GET("/api/news/sentiment/{ticker}", { params: { path: { ticker } } })) });

// Backtest progress has no socket event: only while a run is queued or running is it
// re-read (every 1.5 s); nothing else in the dashboard is polled.
const active = (status: string | undefined) => status === "queued" || status === "running";
export const useBacktests = () =>
  useQuery({
    queryKey: keys.backtests,
    queryFn: () => must(api.GET("/api/backtests", { params: { query: { limit: 50 } } })),
    refetchInterval: (q) => (q.state.data?.results.some((r) => active(r.status)) ? 1500 : false),
  });
export const useBacktest = (id: number | null) =>
  useQuery({
    queryKey: keys.backtest(id ?? 0),
    enabled: id !== null,
    queryFn: () => must(api.GET("/api/backtests/{run_id}", { params: { path: { run_id: id ?? 0 } } })),
    refetchInterval: (q) => (active(q.state.data?.status) ? 1500 : false),
  });
export const useCompare = (ids: number[]) =>
  useQuery({ queryKey: keys.compare(ids), enabled: ids.length >= 2, queryFn: () => must(api.GET("/api/backtests/compare", { params: { query: { ids: ids.join(",") } } })) });
export const createBacktest = (body: S["BacktestCreateRequest"]) => must(api.POST("/api/backtests", { body }));

export const usePasskeys = () => useQuery({ queryKey: keys.passkeys, queryFn: () => must(api.GET("/api/passkeys")) });
export const deletePasskey = (id: number) => must(api.DELETE("/api/passkeys/{passkey_id}", { params: { path: { passkey_id: id } } }));

/** Overrides: each click gets a fresh Idempotency-Key; the step-up token travels with it. */
const h = (proof: string) => ({ "Idempotency-Key": idempotencyKey(), "X-Step-Up": proof });
export const commands = {
  pause: (proof: string, reason: string) => must(api.POST("/api/control/pause", { params: { header: h(proof) }, body: { reason } })),
  resume: (proof: string) => must(api.POST("/api/control/resume", { params: { header: h(proof) } })),
  kill: (proof: string, reason: string) => must(api.POST("/api/control/kill-switch", { params: { header: h(proof) }, body: { reason } })),
  close: (proof: string, ticker: string) => must(api.POST("/api/control/positions/{ticker}/close", { params: { header: h(proof), path: { ticker } } })),
  freeze: (proof: string, frozen: boolean, reason: string) => must(api.POST("/api/strategies/learning/freeze", { params: { header: h(proof) }, body: { frozen, reason } })),
  resetWeights: (proof: string, reason: string) => must(api.POST("/api/strategies/weights/reset", { params: { header: h(proof) }, body: { reason } })),
};
