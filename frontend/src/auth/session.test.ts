import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { _resetSession, getAccessToken, refreshAccess } from "./session";
import { authFetch } from "../api/http";
import { mockFetch } from "../test/utils";

const jwt = (name: string) => `h.${btoa(JSON.stringify({ username: name })).replace(/=+$/, "")}.s`;

describe("session", () => {
  beforeEach(() => _resetSession());
  afterEach(() => vi.unstubAllGlobals());

  it("refreshes once for many concurrent callers and keeps the token out of storage", async () => {
    let n = 0;
    const { calls } = mockFetch({ "POST /api/auth/refresh": () => ({ access: jwt(`alice${++n}`), access_expires_at: new Date(Date.now() + 300_000).toISOString(), user: { id: 1, username: "alice", is_staff: false } }) });
    const got = await Promise.all([refreshAccess(), refreshAccess(), refreshAccess()]);
    expect(calls.filter((c) => c.url === "/api/auth/refresh")).toHaveLength(1);
    expect(new Set(got).size).toBe(1);
    expect(getAccessToken()).toBe(got[0]);
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + location.href;
    expect(stored).not.toContain(got[0]!);
  });

  it("retries a request once with a fresh token after a 401", async () => {
    let first = true;
    const { calls } = mockFetch({
      "POST /api/auth/refresh": () => ({ access: jwt("bob"), access_expires_at: new Date(Date.now() + 300_000).toISOString(), user: { id: 2, username: "bob", is_staff: false } }),
      "GET /api/portfolio": () => {
        if (first) {
          first = false;
          return new Response("{}", { status: 401 });
        }
        return { value: 1 };
      },
    });
    const res = await authFetch("/api/portfolio");
    expect(res.status).toBe(200);
    const gets = calls.filter((c) => c.url === "/api/portfolio");
    expect(gets).toHaveLength(2);
    expect(gets[1]!.headers.get("Authorization")).toBe(`Bearer ${jwt("bob")}`);
  });

  it("signs out when the refresh is refused", async () => {
    mockFetch({ "POST /api/auth/refresh": new Response("{}", { status: 401 }) });
    expect(await refreshAccess()).toBeNull();
    expect(getAccessToken()).toBeNull();
  });
});
