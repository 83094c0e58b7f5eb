// One WebSocket per tab. It is opened with a single-use ticket from an authenticated POST
// (never the JWT), reconnects with backoff after a drop, and catches up on what it missed
// from the last event id it saw. Views subscribe to events; nothing polls.

import { paths } from "../api/paths";
import { api, must } from "../api/client";
import { sessionRevoked } from "../auth/session";

export interface LiveEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  at?: string;
}
export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

type Listener = (e: LiveEvent) => void;
const listeners = new Set<Listener>();
const statusListeners = new Set<() => void>();
let status: LiveStatus = "idle";
let socket: WebSocket | null = null;
let lastId: string | null = null;
let attempts = 0;
let stopped = true;
let timer: ReturnType<typeof setTimeout> | null = null;
const seen = new Set<string>();

const setStatus = (s: LiveStatus) => {
  status = s;
  statusListeners.forEach((l) => l());
};
export const getLiveStatus = () => status;
export const getLastEventId = () => lastId;
export function subscribeLiveStatus(l: () => void) {
  statusListeners.add(l);
  return () => statusListeners.delete(l);
}
export function onLiveEvent(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Normalise the server's envelope: {id, type|event, data|payload, at|ts}. */
export function normalise(raw: unknown): LiveEvent | null {
  if (!raw || typeof raw !== "object") return null;
  const o = raw as Record<string, unknown>;
  const id = o.id ?? o.event_id;
  const type = o.type ?? o.event ?? o.kind;
  if (id === undefined || typeof type !== "string") return null;
  const data = (o.data ?? o.payload ?? {}) as Record<string, unknown>;
  const at = (o.at ?? o.ts ?? o.created_at) as string | undefined;
  return at === undefined ? { id: String(id), type, data } : { id: String(id), type, data, at };
}

export function dispatch(e: LiveEvent): void {
  if (seen.has(e.id)) return; // catch-up and the live socket may overlap
  seen.add(e.id);
  if (seen.size > 5000) seen.delete(seen.values().next().value as string);
  lastId = e.id;
  listeners.forEach((l) => {
    try {
      l(e);
    } catch (err) {
      console.error("live listener failed", err);
    }
  });
}

/** After a reconnect: everything since the last event id seen, page by page. */
async function catchUp(): Promise<void> {
  let since = lastId;
  for (let page = 0; page < 50 && since !== null; page++) {
    const body = await must(api.GET("/api/events", { params: { query: { since, limit: 500 } } }));
    if (body.reset) {
      // Too far behind for the event log: every view refetches instead.
      dispatch({ id: `reset-${body.last_id}`, type: "reset", data: {} });
    }
    body.events.map(normalise).forEach((e) => e && dispatch(e));
    lastId = body.last_id || lastId;
    since = body.more ? body.last_id : null;
  }
}

async function open(): Promise<void> {
  if (stopped) return;
  setStatus(attempts === 0 ? "connecting" : "reconnecting");
  let ticket: string;
  try {
    ticket = (await must(api.POST("/api/ws-ticket"))).ticket;
  } catch {
    return scheduleReconnect();
  }
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // The ticket is single-use, bound to the user and expires in seconds; it is not a JWT.
  const ws = new WebSocket(`${proto}//${location.host}${paths.ws}?ticket=${encodeURIComponent(ticket)}`);
  socket = ws;
  ws.onopen = () => {
    const wasReconnect = attempts > 0;
    attempts = 0;
    setStatus("open");
    if (wasReconnect && lastId !== null) catchUp().catch(() => undefined);
  };
  ws.onmessage = (m) => {
    try {
      const parsed: unknown = JSON.parse(String(m.data));
      if (parsed && typeof parsed === "object" && (parsed as { type?: unknown }).type === "hello") {
        // The stream position at connect time: a later reconnect catches up from here.
        const id = (parsed as { last_id?: unknown }).last_id;
        if (lastId === null && typeof id === "string" && id) lastId = id;
        return;
      }
      const batch = Array.isArray(parsed) ? parsed : [parsed];
      batch.map(normalise).forEach((e) => e && dispatch(e));
    } catch {
      /* not an event */
    }
  };
  ws.onclose = (ev) => {
    if (socket === ws) socket = null;
    if (ev.code === 4001) {
      // Signed out elsewhere, or this sign-in was revoked.
      stopLive();
      sessionRevoked();
      return;
    }
    scheduleReconnect(); // 4401 (ticket used/expired) included: a new ticket is fetched
  };
}

function scheduleReconnect(): void {
  if (stopped) return setStatus("closed");
  attempts += 1;
  setStatus("reconnecting");
  const delay = Math.min(15_000, 500 * 2 ** Math.min(attempts, 5)) * (0.75 + Math.random() * 0.5);
  timer = setTimeout(() => void open(), delay);
}

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  attempts = 0;
  void open();
}

export function stopLive(): void {
  stopped = true;
  if (timer) clearTimeout(timer);
  socket?.close();
  socket = null;
  setStatus("closed");
}

/** For tests and the e2e: drop the socket as a network failure would. */
export function dropLive(): void {
  socket?.close();
}
if (typeof window !== "undefined") (window as unknown as { __tradebotDropLive?: () => void }).__tradebotDropLive = dropLive;
