import { useEffect } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useSession } from "../auth/useSession";
import { refreshAccess, signOut } from "../auth/session";
import { StepUpProvider } from "../auth/StepUp";
import { Toaster } from "./toast";
import { TradingBanner } from "./TradingBanner";
import { LiveBridge, LiveIndicator } from "../live/LiveBridge";

const nav = [
  { to: "/", label: "Portfolio", end: true },
  { to: "/trades", label: "Trades" },
  { to: "/strategies", label: "Strategies" },
  { to: "/news", label: "News & sentiment" },
  { to: "/backtests", label: "Backtests" },
  { to: "/account", label: "Passkeys" },
];

export function Layout() {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    if (session.status === "unknown") void refreshAccess();
    if (session.status === "signed-out") navigate(`/signin?next=${encodeURIComponent(location.pathname)}`, { replace: true });
  }, [session.status, navigate, location.pathname]);

  if (session.status !== "signed-in") {
    return (
      <main className="p-6">
        <p role="status">Checking your session…</p>
      </main>
    );
  }
  return (
    <StepUpProvider>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-300 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-4 px-4 py-2">
          <span className="text-lg font-bold">tradebot</span>
          <nav aria-label="Main">
            <ul className="flex flex-wrap gap-1">
              {nav.map((n) => (
                <li key={n.to}>
                  <NavLink
                    to={n.to}
                    end={n.end ?? false}
                    className={({ isActive }) =>
                      `block rounded px-3 py-1.5 text-sm ${isActive ? "bg-blue-800 text-white" : "text-slate-900 hover:bg-slate-100"}`
                    }
                  >
                    {n.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <LiveIndicator />
            <span>{session.user?.username}</span>
            <button type="button" className="btn" onClick={() => void signOut().then(() => navigate("/signin"))}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <TradingBanner />
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-4 focus:outline-none">
        <Outlet />
      </main>
      <LiveBridge />
      <Toaster />
    </StepUpProvider>
  );
}
