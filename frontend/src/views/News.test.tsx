import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import News from "./News";
import { mockFetch, renderApp } from "../test/utils";
import { acceptTokens, _resetSession } from "../auth/session";

describe("News feed", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    _resetSession();
  });

  it("renders hostile titles as text and drops non-http links", async () => {
    acceptTokens({ access: "h.e30.s", user: { username: "t" } });
    mockFetch({
      "GET /api/news/articles": {
        next: null,
        results: [
          {
            id: 1,
            title: "<img src=x onerror=alert(1)>",
            url: "javascript:alert(1)",
            source: "wire",
            published_at: "2024-07-01T14:30:00Z",
            fetched_at: "2024-07-01T14:30:05Z",
            tickers: ["AAPL"],
            sentiments: [{ ticker: "AAPL", score: 0.6, confidence: 0.9, tier: 1, model: "finbert@1", created_at: "2024-07-01T14:31:00Z" }],
          },
        ],
      },
    });
    const { container } = renderApp(<News />, "/news");
    expect(await screen.findByText("<img src=x onerror=alert(1)>")).toBeInTheDocument();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
    expect(screen.getByText(/positive 0.6/)).toBeInTheDocument();
    expect(screen.getByText(/tier 1, finbert@1/)).toBeInTheDocument();
  });
});
