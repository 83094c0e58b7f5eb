// View-level shapes. Each is the generated schema type where the API defines one
// (see schema.d.ts, generated from the committed OpenAPI document).
export type Num = number | string | null;

export interface TradingState {
  state: "active" | "paused" | "halted" | string;
  reason: string;
  changed_at?: string | null;
  kill_switch?: boolean;
}
export interface Position {
  ticker: string;
  qty: Num;
  avg_entry_price: Num;
  last_price: Num;
  unrealized_pnl: Num;
  stop_price?: Num;
  opened_at?: string | null;
}
export interface EquityPoint {
  time: string;
  equity: Num;
}
export interface Portfolio {
  value: Num;
  cash: Num;
  exposure: Num;
  daily_pnl: Num;
  drawdown: Num;
  max_drawdown: Num;
  roi: Num;
  sharpe: Num;
  win_rate: Num;
  equity_curve: EquityPoint[];
  positions: Position[];
}
export interface TradeRow {
  id: number;
  ticker: string;
  side: string;
  qty: Num;
  price: Num;
  status: string;
  strategy: string;
  timestamp: string;
  filled_at?: string | null;
  purpose?: string;
  roi_pct?: Num;
  was_profitable?: boolean | null;
}
export interface StrategyVote {
  strategy: string;
  score: Num;
  weight: Num;
}
export interface VisibleArticle {
  id?: number;
  title: string;
  source: string;
  url?: string;
  published_at?: string | null;
  score: Num;
  confidence: Num;
  tier: number;
  model: string;
}
export interface OrderFill {
  event: string;
  status: string;
  at: string;
  qty?: Num;
  price?: Num;
}
export interface TradeDetail extends TradeRow {
  signal?: { direction: string; strength: Num; sentiment_score?: Num; decided_at?: string } | null;
  strategies: StrategyVote[];
  articles: VisibleArticle[];
  updates: OrderFill[];
  outcome?: { hold_seconds?: Num; pnl: Num; roi_pct: Num; was_profitable: boolean; closed_at?: string; exit_price?: Num } | null;
  stop_price?: Num;
  exit_price?: Num;
  exit_at?: string | null;
}
export interface Bar {
  time: string;
  close: Num;
}
export interface Page<T> {
  results: T[];
  next: string | null;
}
export interface StrategyRow {
  name: string;
  weight: Num;
  active: boolean;
  win_rate?: Num;
  sharpe?: Num;
  trades?: number;
  pnl?: Num;
  description?: string;
}
export interface WeightPoint {
  strategy: string;
  weight: Num;
  timestamp: string;
  reason?: string;
}
export interface Adjustment {
  strategy: string;
  old_weight: Num;
  new_weight: Num;
  reason: string;
  reward_signal: Num;
  timestamp: string;
}
export interface LearningState {
  frozen: boolean;
  reason?: string;
}
export interface Article {
  id: number;
  title: string;
  summary?: string;
  url?: string;
  source: string;
  published_at?: string | null;
  fetched_at?: string;
  tickers: string[];
  sentiments: { ticker: string; score: Num; confidence: Num; tier: number; model_used: string }[];
}
export interface Correlation {
  ticker: string;
  correlation: Num;
  series: { day: string; sentiment: Num; close: Num }[];
}
export interface BacktestRun {
  id: number;
  name: string;
  status: string;
  progress: Num;
  config: Record<string, unknown>;
  metrics: Record<string, Num>;
  created_at: string;
  finished_at?: string | null;
  error?: string;
}
export interface BacktestDetail extends BacktestRun {
  trades: Record<string, unknown>[];
  equity_curve: EquityPoint[];
  weight_history: WeightPoint[];
  attribution: Record<string, unknown>;
}
export interface Passkey {
  id: number | string;
  name: string;
  created_at?: string | null;
  last_used_at?: string | null;
}
