import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TradingBanner } from "./TradingBanner";
import { mockFetch, renderApp } from "../test/utils";
import { acceptTokens, _resetSession } from "../auth/session";

describe("TradingBanner", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    _resetSession();
  });
  it("stays up while trading is halted, with the reason", async () => {
    acceptTokens({ access: "h.e30.s" });
    mockFetch({ "GET /api/control": { state: "halted", reason: "daily loss limit", kill_switch: false } });
    renderApp(<TradingBanner />);
    const banner = await screen.findByRole("alert");
    expect(banner).toHaveTextContent("Trading is HALTED: daily loss limit");
  });
  it("is absent while trading is active", async () => {
    acceptTokens({ access: "h.e30.s" });
    const { fn } = mockFetch({ "GET /api/control": { state: "active", reason: "" } });
    renderApp(<TradingBanner />);
    await vi.waitFor(() => expect(fn).toHaveBeenCalled());
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
