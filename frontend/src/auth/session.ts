// The access token lives in this module's memory only: never in localStorage,
// sessionStorage, a cookie readable by script, a URL or a WebSocket URL. The refresh
// token is an httpOnly cookie scoped to the refresh path; script never sees it.
//
// Refresh is single-flight across tabs: one promise per tab, and a Web Lock so only one
// tab at a time spends the rotating, single-use refresh cookie (a second use of the same
// cookie counts as reuse and revokes the sign-in). The tab that refreshed hands the new
// access token to the others over a BroadcastChannel (memory to memory).

import { paths } from "../api/paths";

export interface SessionUser {
  username: string;
  is_staff?: boolean;
}
export interface SessionBody {
  access?: string | null;
  access_expires_at?: string | null;
  user?: SessionUser | null;
}
interface State {
  access: string | null;
  expiresAt: number | null;
  user: SessionUser | null;
  status: "unknown" | "signed-in" | "signed-out";
}

let state: State = { access: null, expiresAt: null, user: null, status: "unknown" };
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

type Msg = { type: "token"; body: SessionBody; at: number } | { type: "signed-out" };
const channel: BroadcastChannel | null = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("tradebot-auth") : null;
let lastForeignTokenAt = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function adopt(body: SessionBody): boolean {
  if (!body.access) return false;
  const exp = body.access_expires_at ? Date.parse(body.access_expires_at) : NaN;
  setState({ access: body.access, expiresAt: Number.isFinite(exp) ? exp : null, user: body.user ?? state.user, status: "signed-in" });
  if (timer) clearTimeout(timer);
  if (Number.isFinite(exp)) {
    // Refresh about 30 s before the access token expires (never below 5 s from now).
    timer = setTimeout(() => void refreshAccess(), Math.max(5_000, exp - Date.now() - 30_000));
  }
  return true;
}

channel?.addEventListener("message", (ev: MessageEvent<Msg>) => {
  const msg = ev.data;
  if (msg.type === "token") {
    lastForeignTokenAt = msg.at;
    adopt(msg.body);
  } else if (msg.type === "signed-out") {
    clearLocal();
  }
});

function clearLocal(): void {
  if (timer) clearTimeout(timer);
  setState({ access: null, expiresAt: null, user: null, status: "signed-out" });
}

/** Adopt a freshly issued session (after sign-in, registration or refresh) and tell other tabs. */
export function acceptTokens(body: SessionBody | null | undefined): boolean {
  if (!body || !adopt(body)) return false;
  channel?.postMessage({ type: "token", body, at: Date.now() } satisfies Msg);
  return true;
}

async function refreshOnce(): Promise<string | null> {
  const started = Date.now();
  const run = async (): Promise<string | null> => {
    // Another tab refreshed while this one waited for the lock: use its token.
    if (lastForeignTokenAt >= started && state.access) return state.access;
    const res = await fetch(paths.refresh, { method: "POST", credentials: "same-origin" });
    if (!res.ok) {
      clearLocal();
      return null;
    }
    const body = (await res.json()) as SessionBody;
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
        clearLocal();
        return null;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

// For the end-to-end test of cross-tab refresh: says whether a refresh left this tab signed
// in (never the token itself).
if (typeof window !== "undefined") {
  (window as unknown as { __tradebotRefreshCheck?: () => Promise<boolean> }).__tradebotRefreshCheck = () => refreshAccess().then((t) => t !== null);
}

export async function signOut(): Promise<void> {
  try {
    await fetch(paths.signOut, { method: "POST", credentials: "same-origin" });
  } finally {
    clearLocal();
    channel?.postMessage({ type: "signed-out" } satisfies Msg);
  }
}

/** The server closed the sockets of this sign-in (signed out elsewhere or revoked). */
export function sessionRevoked(): void {
  clearLocal();
}

/** For tests. */
export function _resetSession(): void {
  if (timer) clearTimeout(timer);
  state = { access: null, expiresAt: null, user: null, status: "unknown" };
  inflight = null;
  lastForeignTokenAt = 0;
}
