import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TradingControls } from "../views/Portfolio";
import { mockFetch, renderApp } from "../test/utils";
import { acceptTokens, _resetSession } from "./session";

vi.mock("@simplewebauthn/browser", () => ({
  startAuthentication: vi.fn(async () => ({ id: "cred", rawId: "cred", type: "public-key", response: {}, clientExtensionResults: {} })),
  startRegistration: vi.fn(),
}));

// jsdom has no modal dialogs; the native element's open/close is enough here.
HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
  this.open = true;
};
HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
  this.open = false;
};

const control = { state: "active", reason: "", kill_switch: false, learning_frozen: false, changed_at: null };

describe("step-up before a dangerous action", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    _resetSession();
  });

  it("sends nothing when the user cancels", async () => {
    acceptTokens({ access: "h.e30.s" });
    const { calls } = mockFetch({ "GET /api/control": control });
    renderApp(<TradingControls />);
    await userEvent.click(await screen.findByRole("button", { name: "Pause trading" }));
    expect(screen.getByRole("heading", { name: "Confirm: Pause trading" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("binds a passkey assertion to the action and sends its token with an idempotency key", async () => {
    acceptTokens({ access: "h.e30.s" });
    const { calls } = mockFetch({
      "GET /api/control": control,
      "POST /api/step-up/begin": { ceremony_id: "c1", options: { challenge: "x", allowCredentials: [] } },
      "POST /api/step-up/complete": { step_up_token: "grant-1", action: "pause", target: "", expires_in: 120 },
      "POST /api/control/pause": { ...control, state: "paused", canceled_orders: [] },
    });
    renderApp(<TradingControls />);
    await userEvent.click(await screen.findByRole("button", { name: "Pause trading" }));
    await userEvent.click(screen.getByRole("button", { name: "Confirm with passkey" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/control/pause")).toBe(true));
    const begin = calls.find((c) => c.url === "/api/step-up/begin")!;
    expect(begin.body).toEqual({ action: "pause", target: "" });
    const pause = calls.find((c) => c.url === "/api/control/pause")!;
    expect(pause.headers.get("X-Step-Up")).toBe("grant-1");
    expect(pause.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(pause.headers.get("Authorization")).toBe("Bearer h.e30.s");
  });
});
