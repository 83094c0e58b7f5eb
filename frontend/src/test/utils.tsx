import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import { vi } from "vitest";
import { StepUpProvider } from "../auth/StepUp";

export type Route = (url: URL, init: RequestInit & { method: string }) => unknown;

/** A fetch stand-in answering JSON by path; records every call. */
export function mockFetch(routes: Record<string, unknown | Route>) {
  const calls: { url: string; method: string; headers: Headers; body: unknown }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(new URL(String(input), location.href), init);
    const url = new URL(req.url, "http://localhost");
    const text = req.method === "GET" ? "" : await req.text();
    calls.push({ url: url.pathname + url.search, method: req.method, headers: req.headers, body: text ? JSON.parse(text) : null });
    const key = `${req.method} ${url.pathname}`;
    const hit = key in routes ? routes[key] : routes[url.pathname];
    if (hit === undefined) return new Response(JSON.stringify({ detail: "not found" }), { status: 404 });
    const value = typeof hit === "function" ? (hit as Route)(url, { ...init, method: req.method }) : hit;
    if (value instanceof Response) return value;
    return new Response(JSON.stringify(value), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return { fn, calls };
}

export function renderApp(ui: ReactNode, path = "/") {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[path]}>
        <StepUpProvider>{ui}</StepUpProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}
