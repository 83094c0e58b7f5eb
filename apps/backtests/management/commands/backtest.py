"""``manage.py backtest --symbols AAPL,MSFT --start 2015-10-01 --end 2015-12-31 [--learning]
[--walk-forward TRAIN:TEST[:STEP]] [--queue]``: run (or queue) a backtest over stored bars and news.

Prints a progress bar and a summary table and writes an equity + weight-history chart under
``DATA_DIR/backtests``. With ``--queue`` the run goes to the ``backtest`` Celery queue instead
(progress is then on the ``BacktestRun`` row).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.backtests.services import (
    backtest_enqueue,
    backtest_run_create,
    backtest_run_execute,
)
from apps.execution.costs import commission_parse, slippage_parse
from backtesting.config import BacktestConfig, SizingKind, StrategySpec
from backtesting.report import summary_table
from backtesting.results import BacktestResult
from backtesting.stages import strategies_build

DEFAULT_STRATEGIES = "momentum,mean_reversion,news_driven"


def _date(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, text.split(",")):
        name, _, w = part.partition("=")
        out[name.strip()] = float(w)
    return out


class Command(BaseCommand):
    help = "Backtest the live strategies, ensemble, risk, costs and learning over stored data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--symbols", default=",".join(settings.TRADING_SYMBOLS))
        parser.add_argument("--start", type=_date, default=None, help="ISO date (UTC)")
        parser.add_argument("--end", type=_date, default=None, help="ISO date (UTC)")
        parser.add_argument("--timeframe", default="1Day")
        parser.add_argument("--strategies", default=DEFAULT_STRATEGIES)
        parser.add_argument("--weights", default="", help="name=w,...; default: equal")
        parser.add_argument("--capital", type=float, default=100_000.0)
        parser.add_argument(
            "--commission", default="bps:1", help="none|bps:N|per_share:X|per_order:X"
        )
        parser.add_argument("--slippage", default="bps:2", help="none|bps:N|spread:BPS|volume:K")
        parser.add_argument(
            "--sizing", default=SizingKind.RISK.value, choices=[k.value for k in SizingKind]
        )
        parser.add_argument("--sizing-value", type=float, default=0.1)
        parser.add_argument(
            "--stop-loss", type=float, default=None, help="fraction, non-risk sizing"
        )
        parser.add_argument("--latency", type=float, default=60.0, help="news latency, seconds")
        parser.add_argument("--allow-short", action="store_true")
        parser.add_argument("--learning", action="store_true", help="update weights after closes")
        parser.add_argument("--min-trades", type=int, default=None, help="learning guardrail")
        parser.add_argument("--walk-forward", default=None, metavar="TRAIN:TEST[:STEP]")
        parser.add_argument("--name", default="")
        parser.add_argument("--queue", action="store_true", help="run on the backtest queue")

    def handle(self, *args: Any, **opts: Any) -> None:
        learning_params: dict[str, Any] = {}
        if opts["min_trades"] is not None:
            learning_params["update"] = {"min_trades": opts["min_trades"]}
        try:
            config = BacktestConfig(
                name=opts["name"],
                symbols=tuple(s.strip().upper() for s in opts["symbols"].split(",") if s.strip()),
                strategies=tuple(
                    StrategySpec(name=s.strip()) for s in opts["strategies"].split(",") if s.strip()
                ),
                initial_weights=_weights(opts["weights"]),
                start=opts["start"],
                end=opts["end"],
                timeframe=opts["timeframe"],
                initial_capital=opts["capital"],
                commission=commission_parse(opts["commission"]),
                slippage=slippage_parse(opts["slippage"]),
                learning=opts["learning"],
                learning_params=learning_params,
                allow_short=opts["allow_short"],
                sizing=SizingKind(opts["sizing"]),
                sizing_value=opts["sizing_value"],
                stop_loss_pct=opts["stop_loss"],
                news_latency_s=opts["latency"],
            )
            strategies_build(config.strategies)  # fail fast on an unknown strategy name
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        wf = opts["walk_forward"]
        if opts["queue"]:
            run = backtest_enqueue(config=config, walk_forward=wf, name=opts["name"])
            self.stdout.write(f"queued backtest #{run.pk} on the backtest queue")
            return
        run = backtest_run_create(config=config, walk_forward=wf, name=opts["name"])
        with tqdm(total=100, desc=f"backtest #{run.pk}", unit="%", leave=True) as bar:

            def progress(fraction: float) -> None:
                bar.n = round(100 * fraction)
                bar.refresh()

            run = backtest_run_execute(run_id=run.pk, progress=progress)
        if run.status != run.Status.DONE:
            raise CommandError(f"backtest #{run.pk} {run.status}: {run.error.splitlines()[0]}")
        self.stdout.write(summary_table(_result_view(run)))
        wf_out = run.metrics.get("walk_forward")
        if wf_out:
            self.stdout.write("\nwalk-forward (weights learned in-sample, measured out-of-sample)")
            self.stdout.write(_walk_forward_table(wf_out))
        self.stdout.write(self.style.SUCCESS(f"\nbacktest #{run.pk} done; chart {run.chart_path}"))


def _walk_forward_table(wf: dict[str, Any]) -> str:
    def pct(x: Any) -> str:
        return "-" if x is None else f"{100 * float(x):+.2f}%"

    lines = [
        f"{'win':>3} {'test period':<23} {'IS ret':>9} {'OOS ret':>9} {'base ret':>9} {'upd':>4}"
    ]
    for w in wf["windows"]:
        lines.append(
            f"{w['window']:>3} {w['test'][0][:10]}..{w['test'][1][:10]} "
            f"{pct(w['in_sample']['total_return']):>9} {pct(w['out_of_sample']['total_return']):>9} "
            f"{pct(w['baseline']['total_return']):>9} {w['weight_updates']:>4}"
        )
    s = wf["summary"]
    if s:
        lines.append(
            f"OOS total {pct(s['oos_total_return'])}; learned beat baseline in "
            f"{s['learned_beat_baseline']}/{s['windows']} windows"
        )
    return "\n".join(lines)


def _result_view(run: Any) -> Any:
    """A stored run shaped like a BacktestResult for :func:`summary_table`."""
    return BacktestResult(
        config=BacktestConfig.from_dict(run.config),
        data_hash=run.data_hash,
        records=[],
        open_count=0,
        tickers=[],
        bar_times=[],
        equity_time=np.empty(0, dtype=np.int64),
        equity=np.empty(0),
        metrics=run.metrics,
        attribution=run.attribution,
        weight_history=run.weight_history,
        final_weights=run.weight_history[-1]["weights"] if run.weight_history else {},
        bars=0,
        extras={"declined_entries": run.metrics.get("declined_entries", {})},
    )
