import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, authFetch } from "./http";

export type S = components["schemas"];

// `api` carries the in-memory access token (refreshing once on a 401); `publicApi` is for
// the sign-in and registration ceremonies, which run before there is a token.
const baseUrl = typeof location !== "undefined" ? location.origin : "";
export const api = createClient<paths>({ baseUrl, fetch: (req: Request) => authFetch(req) });
export const publicApi = createClient<paths>({ baseUrl, fetch: (req: Request) => fetch(req, { credentials: "same-origin" }) });

/** The data of an openapi-fetch result, or an ApiError carrying the API's {detail, code}. */
export async function must<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (error !== undefined || !response.ok) throw new ApiError(response.status, error ?? null);
  return data as T;
}
