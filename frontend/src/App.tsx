import { lazy, Suspense } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, RouterProvider } from "react-router";
import { Layout } from "./components/Layout";
import { ApiError } from "./api/http";

const Portfolio = lazy(() => import("./views/Portfolio"));
const Trades = lazy(() => import("./views/Trades"));
const Strategies = lazy(() => import("./views/Strategies"));
const News = lazy(() => import("./views/News"));
const Backtests = lazy(() => import("./views/Backtests"));
const Account = lazy(() => import("./views/Account"));
const SignIn = lazy(() => import("./views/SignIn"));
const Register = lazy(() => import("./views/Register"));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Live events invalidate what they change; there is no interval polling.
        refetchInterval: false,
        refetchOnWindowFocus: false,
        staleTime: 60_000,
        retry: (n, err) => !(err instanceof ApiError && err.status < 500) && n < 2,
      },
    },
  });
}

const page = (el: React.ReactNode) => <Suspense fallback={<p className="p-4">Loading…</p>}>{el}</Suspense>;

export const routes = [
  { path: "/signin", element: page(<SignIn />) },
  { path: "/register", element: page(<Register />) },
  {
    path: "/",
    element: <Layout />,
    children: [
      { index: true, element: page(<Portfolio />) },
      { path: "trades", element: page(<Trades />) },
      { path: "strategies", element: page(<Strategies />) },
      { path: "news", element: page(<News />) },
      { path: "backtests", element: page(<Backtests />) },
      { path: "account", element: page(<Account />) },
    ],
  },
];

const queryClient = makeQueryClient();
const router = createBrowserRouter(routes);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
