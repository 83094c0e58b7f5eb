import { useQuery, useInfiniteQuery } from "@tanstack/react-query";
import { getJson, postJson, idempotencyKey, authFetch, ApiError } from "./http";
import type * as T from "./types";

const qs = (params: Record<string, string | number | boolean | undefined | null>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
};

export const keys = {
  trading: ["trading"] as const,
  portfolio: ["portfolio"] as const,
  trades: (f: object) => ["trades", f] as const,
  trade: (id: number) => ["trade", id] as const,
  bars: (t: string, from: string, to: string) => ["bars", t, from, to] as const,
  strategies: ["strategies"] as const,
  weights: ["weights"] as const,
  adjustments: ["adjustments"] as const,
  learning: ["learning"] as const,
  articles: (f: object) => ["articles", f] as const,
  correlation: (t: string) => ["correlation", t] as const,
  backtests: ["backtests"] as const,
  backtest: (id: number) => ["backtest", id] as const,
  compare: (ids: number[]) => ["compare", ids] as const,
  passkeys: ["passkeys"] as const,
};

export const useTrading = () => useQuery({ queryKey: keys.trading, queryFn: () => getJson<T.TradingState>("/api/trading/") });
export const usePortfolio = () => useQuery({ queryKey: keys.portfolio, queryFn: () => getJson<T.Portfolio>("/api/portfolio/") });

export interface TradeFilter {
  ticker?: string;
  strategy?: string;
  side?: string;
  profitable?: string;
}
export const useTrades = (f: TradeFilter) =>
  useInfiniteQuery({
    queryKey: keys.trades(f),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => getJson<T.Page<T.TradeRow>>(pageParam ?? `/api/trades/${qs({ ...f })}`),
    getNextPageParam: (last) => last.next,
  });
export const useTrade = (id: number) => useQuery({ queryKey: keys.trade(id), queryFn: () => getJson<T.TradeDetail>(`/api/trades/${id}/`) });
export const useBars = (ticker: string, from: string, to: string) =>
  useQuery({
    queryKey: keys.bars(ticker, from, to),
    queryFn: () => getJson<T.Page<T.Bar> | T.Bar[]>(`/api/bars/${qs({ symbol: ticker, start: from, end: to })}`),
    select: (b) => (Array.isArray(b) ? b : b.results),
  });

export const useStrategies = () => useQuery({ queryKey: keys.strategies, queryFn: () => getJson<T.StrategyRow[]>("/api/strategies/") });
export const useWeights = () => useQuery({ queryKey: keys.weights, queryFn: () => getJson<T.WeightPoint[]>("/api/strategies/weights/") });
export const useAdjustments = () => useQuery({ queryKey: keys.adjustments, queryFn: () => getJson<T.Page<T.Adjustment>>("/api/learning/adjustments/") });
export const useLearning = () => useQuery({ queryKey: keys.learning, queryFn: () => getJson<T.LearningState>("/api/learning/") });

export const useArticles = (f: { ticker?: string; source?: string }) =>
  useQuery({ queryKey: keys.articles(f), queryFn: () => getJson<T.Page<T.Article>>(`/api/articles/${qs(f)}`) });
export const useCorrelation = (ticker: string) =>
  useQuery({ queryKey: keys.correlation(ticker), enabled: ticker !== "", queryFn: () => getJson<T.Correlation>(`/api/news/correlation/${qs({ ticker })}`) });

export const useBacktests = () => useQuery({ queryKey: keys.backtests, queryFn: () => getJson<T.Page<T.BacktestRun>>("/api/backtests/") });
export const useBacktest = (id: number | null) =>
  useQuery({ queryKey: keys.backtest(id ?? 0), enabled: id !== null, queryFn: () => getJson<T.BacktestDetail>(`/api/backtests/${id}/`) });
export const useCompare = (ids: number[]) =>
  useQuery({
    queryKey: keys.compare(ids),
    enabled: ids.length >= 2,
    queryFn: () => getJson<{ runs: T.BacktestDetail[] }>(`/api/backtests/compare/${qs({ ids: ids.join(",") })}`),
  });
export const createBacktest = (config: Record<string, unknown>) => postJson<T.BacktestRun>("/api/backtests/", config, { "Idempotency-Key": idempotencyKey() });

export const usePasskeys = () => useQuery({ queryKey: keys.passkeys, queryFn: () => getJson<T.Passkey[] | T.Page<T.Passkey>>("/api/auth/passkeys/"), select: (p) => (Array.isArray(p) ? p : p.results) });
export async function deletePasskey(id: number | string, proof?: string): Promise<void> {
  const res = await authFetch(`/api/auth/passkeys/${id}/`, { method: "DELETE", headers: proof ? { "X-Step-Up": proof } : {} });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
}

/** Dangerous commands: an idempotency key and the step-up proof travel with each. */
export const command = (path: string, proof: string, body: unknown = {}) =>
  postJson<unknown>(path, body, { "Idempotency-Key": idempotencyKey(), "X-Step-Up": proof });
export const commands = {
  pause: "/api/trading/pause/",
  resume: "/api/trading/resume/",
  kill: "/api/trading/kill/",
  close: (ticker: string) => `/api/positions/${encodeURIComponent(ticker)}/close/`,
  freeze: "/api/learning/freeze/",
  unfreeze: "/api/learning/unfreeze/",
  resetWeights: "/api/strategies/reset-weights/",
};
