import { getAccessToken, refreshAccess } from "../auth/session";

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: unknown,
  ) {
    super(ApiError.describe(status, body));
  }
  get code(): string | undefined {
    const b = this.body as { code?: unknown } | null;
    return typeof b?.code === "string" ? b.code : undefined;
  }
  static describe(status: number, body: unknown): string {
    if (body && typeof body === "object") {
      const o = body as Record<string, unknown>;
      if (typeof o.detail === "string") return o.detail;
      const first = Object.entries(o)[0];
      if (first) return `${first[0]}: ${Array.isArray(first[1]) ? first[1].join(" ") : String(first[1])}`;
    }
    return `HTTP ${status}`;
  }
}

function withAuth(req: Request, token: string | null): Request {
  const headers = new Headers(req.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return new Request(req, { headers, credentials: "same-origin" });
}

/**
 * fetch with the in-memory access token; on 401 it refreshes (single-flight, across tabs)
 * and retries once. It is the typed client's fetch.
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

export function idempotencyKey(): string {
  return crypto.randomUUID();
}
