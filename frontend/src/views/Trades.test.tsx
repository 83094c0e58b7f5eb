import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import Trades from "./Trades";
import { mockFetch, renderApp } from "../test/utils";
import { acceptTokens, _resetSession } from "../auth/session";

const trade = {
  id: 7, ticker: "AAPL", side: "buy", qty: "10", filled_qty: "10", price: "110.06", status: "filled", strategy: "momentum",
  timestamp: "2015-09-02T20:00:00Z", filled_at: "2015-09-03T13:30:00Z", client_order_id: "c7", profitable: true, pnl: "12.40", purpose: "entry",
};

describe("Trade log", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    _resetSession();
  });

  it("expands a trade into its why: scores and weights, visible news, fills and outcome", async () => {
    acceptTokens({ access: "h.e30.s" });
    mockFetch({
      "GET /api/trades": { next: null, previous: null, results: [trade] },
      "GET /api/trades/7": {
        trade,
        signal: { id: 3, ticker: "AAPL", direction: "long", strength: 0.4, sentiment_score: 0.3, decided_at: "2015-09-02T20:00:00Z", price: "109.9" },
        contributions: [
          { strategy: "momentum", score: 0.8, weight: 0.5 },
          { strategy: "news_driven", score: 0.3, weight: 0.25 },
        ],
        articles: [{ article_id: 1, title: "Apple <b>beats</b>", source: "wire", url: "javascript:void(0)", published_at: "2015-09-02T15:00:00Z", score: 0.7, confidence: 0.9, tier: 1, model: "finbert@2" }],
        orders: [trade],
        updates: [{ trade: 7, event: "fill", status: "filled", at: "2015-09-03T13:30:00Z", filled_qty: "10", price: "110.06" }],
        outcome: { trade: 7, exit_trade: 9, closed_at: "2015-09-10T13:30:00Z", hold_seconds: 604800, realized_pnl: "12.40", roi_pct: 1.13, was_profitable: true },
      },
      "GET /api/news/sentiment/AAPL": { ticker: "AAPL", correlation: null, correlation_same_day: null, pairs: 0, days: [] },
    });
    renderApp(<Trades />, "/trades");
    const row = await screen.findByTestId("trade-7");
    const why = within(row).getByRole("button");
    expect(why).toHaveTextContent("Why? trade 7 AAPL");
    expect(why).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(why);
    expect(why).toHaveAttribute("aria-expanded", "true");
    const detail = await screen.findByTestId("trade-why");
    expect(within(detail).getByText("Strategies at decision time")).toBeInTheDocument();
    expect(within(detail).getAllByText("momentum").length).toBeGreaterThan(0);
    expect(within(detail).getByText("0.8")).toBeInTheDocument();
    expect(within(detail).getByText("Apple <b>beats</b>")).toBeInTheDocument();
    expect(detail.querySelector("a[href^='javascript']")).toBeNull();
    expect(within(detail).getByTestId("outcome")).toHaveTextContent("+1.13%");
    expect(within(detail).getByTestId("outcome")).toHaveTextContent("held 7.0 days");
    expect(within(detail).getByText(/profitable/)).toBeInTheDocument();
  });
});
