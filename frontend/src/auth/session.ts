// The access token lives in this module's memory only: never in localStorage,
// sessionStorage, a cookie readable by script, a URL or a WebSocket URL. The refresh
// token is an httpOnly cookie the server sets on its refresh path; script never sees it.
//
// Refresh is single-flight across tabs: one promise per tab, and a Web Lock so only one
// tab at a time spends the (rotating, single-use) refresh cookie. The tab that refreshed
// hands the new access token to the others over a BroadcastChannel (memory to memory).

import { paths } from "../api/paths";

export interface SessionUser {
  username: string;
}
interface State {
  access: string | null;
  user: SessionUser | null;
  status: "unknown" | "signed-in" | "signed-out";
}

let state: State = { access: null, user: null, status: "unknown" };
const listeners = new Set<() => void>();
const setState = (next: Partial<State>) => {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
};

export const getSession = (): State => state;
export const getAccessToken = (): string | null => state.access;
export function subscribeSession(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

type Msg = { type: "token"; access: string; user: SessionUser | null; at: number } | { type: "signed-out" };
const channel: BroadcastChannel | null = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("tradebot-auth") : null;
let lastForeignTokenAt = 0;
channel?.addEventListener("message", (ev: MessageEvent<Msg>) => {
  const msg = ev.data;
  if (msg.type === "token") {
    lastForeignTokenAt = msg.at;
    setState({ access: msg.access, user: msg.user ?? state.user, status: "signed-in" });
  } else if (msg.type === "signed-out") {
    setState({ access: null, user: null, status: "signed-out" });
  }
});

function userFromToken(access: string): SessionUser | null {
  try {
    const part = access.split(".")[1];
    if (!part) return null;
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const name = json.username ?? json.user ?? json.sub ?? json.user_id;
    return name === undefined ? null : { username: String(name) };
  } catch {
    return null;
  }
}

/** Adopt a freshly issued access token (after sign-in, registration or refresh). */
export function acceptTokens(body: { access?: string | null; username?: string | null } | null | undefined): boolean {
  const access = body?.access;
  if (!access) return false;
  const user = body?.username ? { username: body.username } : userFromToken(access);
  setState({ access, user, status: "signed-in" });
  channel?.postMessage({ type: "token", access, user, at: Date.now() } satisfies Msg);
  return true;
}

async function refreshOnce(): Promise<string | null> {
  const started = Date.now();
  const run = async (): Promise<string | null> => {
    // Another tab refreshed while this one waited for the lock: use its token.
    if (lastForeignTokenAt >= started && state.access) return state.access;
    const res = await fetch(paths.refresh, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
      body: "{}",
    });
    if (!res.ok) {
      setState({ access: null, user: null, status: "signed-out" });
      return null;
    }
    const body = (await res.json()) as { access?: string; username?: string };
    return acceptTokens(body) ? (body.access ?? null) : null;
  };
  if (typeof navigator !== "undefined" && navigator.locks?.request) {
    return navigator.locks.request("tradebot-refresh", run);
  }
  return run();
}

let inflight: Promise<string | null> | null = null;
/** Single-flight refresh: concurrent callers in this tab share one request. */
export function refreshAccess(): Promise<string | null> {
  if (!inflight) {
    inflight = refreshOnce()
      .catch(() => {
        setState({ access: null, user: null, status: "signed-out" });
        return null;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

export async function signOut(): Promise<void> {
  try {
    await fetch(paths.logout, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", ...(state.access ? { Authorization: `Bearer ${state.access}` } : {}) },
      body: "{}",
    });
  } finally {
    setState({ access: null, user: null, status: "signed-out" });
    channel?.postMessage({ type: "signed-out" } satisfies Msg);
  }
}

/** For tests. */
export function _resetSession(): void {
  state = { access: null, user: null, status: "unknown" };
  inflight = null;
  lastForeignTokenAt = 0;
}
