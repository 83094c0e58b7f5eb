"""Human-facing output of a backtest: a summary table and an equity + weight-history chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from backtesting.results import BacktestResult


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.2f}"
    return str(value)


def summary_table(result: BacktestResult) -> str:
    """Metrics, then per-strategy attribution, then the final weights, as aligned text."""
    m = result.metrics
    rows = [
        ("final equity", m.get("final_equity")),
        ("total return", m.get("total_return")),
        ("sharpe", m.get("sharpe")),
        ("sortino", m.get("sortino")),
        ("max drawdown", m.get("max_drawdown")),
        ("trades (closed)", f"{m.get('trades')} ({m.get('closed_trades')})"),
        ("win rate", m.get("win_rate")),
        ("profit factor", m.get("profit_factor")),
        ("exposure time", m.get("exposure_time")),
        ("avg gross exposure", m.get("avg_gross_exposure")),
        ("commission", m.get("commission")),
        ("bars", m.get("bars")),
        ("weight updates", len(result.weight_history) - 1),
        ("data hash", result.data_hash[:16]),
    ]
    width = max(len(k) for k, _ in rows)
    lines = ["metric".ljust(width) + "  value", "-" * (width + 20)]
    lines += [f"{k.ljust(width)}  {_fmt(v)}" for k, v in rows]
    if result.attribution:
        lines += ["", f"{'strategy':<16}{'trades':>8}{'credited P&L':>16}{'wins':>7}{'share':>9}"]
        lines += ["-" * 56]
        for name, a in sorted(result.attribution.items()):
            lines.append(
                f"{name:<16}{int(a['trades']):>8}{a['pnl']:>16,.2f}{int(a['wins']):>7}"
                f"{a['avg_share']:>9.3f}"
            )
    first = result.weight_history[0]["weights"] if result.weight_history else {}
    if result.final_weights:
        lines += ["", f"{'strategy':<16}{'initial w':>12}{'final w':>12}", "-" * 40]
        for name, w in sorted(result.final_weights.items()):
            lines.append(f"{name:<16}{first.get(name, 0.0):>12.4f}{w:>12.4f}")
    declined = result.extras.get("declined_entries") or {}
    if declined:
        lines += ["", "entries declined: " + ", ".join(f"{k} x{v}" for k, v in declined.items())]
    return "\n".join(lines)


def chart_write(result: BacktestResult, path: Path) -> Path:
    """PNG with the equity curve (top) and the strategy weights over time (bottom)."""
    import matplotlib  # noqa: PLC0415 - heavy; the Agg backend is chosen before pyplot loads

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - heavy; the Agg backend is chosen before pyplot loads

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=[2, 1])
    n = result.equity.shape[0]
    if n:
        step = max(1, n // 5000)  # a chart needs no more points than pixels
        t = result.equity_time[::step].astype("datetime64[ns]").astype("datetime64[ms]")
        ax1.plot(t.astype(datetime), result.equity[::step], lw=1.0, color="tab:blue")
    ax1.set_ylabel("equity")
    ax1.set_title(result.config.name or "backtest " + ",".join(result.config.symbols))
    ax1.grid(alpha=0.3)
    hist = result.weight_history
    names = sorted(result.final_weights)
    if hist and n:
        times = [datetime.fromisoformat(h["time"]) for h in hist if h["time"]]
        end = result.equity_time[-1].astype("datetime64[ns]").astype("datetime64[ms]")
        times.append(end.astype(datetime))
        for name in names:
            ws = [h["weights"].get(name, np.nan) for h in hist if h["time"]]
            ax2.step(
                [x.replace(tzinfo=None) for x in times], [*ws, ws[-1]], where="post", label=name
            )
        ax2.legend(loc="upper left", fontsize=8, ncol=max(1, len(names)))
    ax2.set_ylabel("weight")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
