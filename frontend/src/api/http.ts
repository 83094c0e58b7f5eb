import { getAccessToken, refreshAccess } from "../auth/session";

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: unknown,
  ) {
    super(typeof body === "object" && body && "detail" in body ? String((body as { detail: unknown }).detail) : `HTTP ${status}`);
  }
}

function withAuth(req: Request, token: string | null): Request {
  const headers = new Headers(req.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return new Request(req, { headers, credentials: "same-origin" });
}

/**
 * fetch with the in-memory access token; on 401 it refreshes (single-flight, across tabs)
 * and retries once. Used as openapi-fetch's `fetch`, and directly for the auth ceremonies.
 */
export async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const target = typeof input === "string" ? new URL(input, location.href) : input;
  const base = new Request(target, init);
  let token = getAccessToken();
  if (!token) token = await refreshAccess();
  const retryCopy = base.clone();
  const res = await fetch(withAuth(base, token));
  if (res.status !== 401) return res;
  const fresh = await refreshAccess();
  if (!fresh) return res;
  return fetch(withAuth(retryCopy, fresh));
}

export async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}, auth = true): Promise<T> {
  const init: RequestInit = {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body ?? {}),
  };
  const res = auth ? await authFetch(url, init) : await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed as T;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await authFetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const parsed: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed as T;
}

export function idempotencyKey(): string {
  return crypto.randomUUID();
}
