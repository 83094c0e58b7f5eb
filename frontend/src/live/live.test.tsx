import { act, render, screen } from "@testing-library/react";
import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import { dispatch, normalise, onLiveEvent } from "./socket";
import { applyEvent } from "./LiveBridge";
import { Toaster } from "../components/toast";

describe("live events", () => {
  it("normalises envelopes and drops duplicates from catch-up", () => {
    const seen: string[] = [];
    const off = onLiveEvent((e) => seen.push(e.id));
    const e = normalise({ id: "7-0", type: "trade.executed", data: { ticker: "AAPL" } })!;
    dispatch(e);
    dispatch(e);
    off();
    expect(seen).toEqual(["7-0"]);
    expect(normalise({ nope: 1 })).toBeNull();
  });

  it("toasts every executed trade in a live region and invalidates the views it changes", () => {
    const qc = new QueryClient();
    const spy = vi.spyOn(qc, "invalidateQueries");
    render(<Toaster />);
    act(() => applyEvent(qc, { id: "9", type: "trade.executed", data: { ticker: "MSFT", side: "buy", filled_qty: "5", filled_avg_price: "301.5" } }));
    const region = screen.getByRole("status");
    expect(region).toHaveAttribute("aria-live", "polite");
    expect(region).toHaveTextContent("Trade executed: BUY 5 MSFT");
    expect(region).toHaveTextContent("$301.50");
    const invalidated = spy.mock.calls.map((c) => (c[0] as { queryKey: string[] }).queryKey[0]);
    expect(invalidated).toEqual(expect.arrayContaining(["trades", "portfolio"]));
  });
});
