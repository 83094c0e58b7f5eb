"""The one learning-cadence rule, live and in the backtester: at most one cycle per
``min_interval_s`` of market time (issue 9: three cycles in one market day moved momentum from
0.62 to 0.33, each "held by the max-shift cap")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from apps.learning.engine import cycle_due
from apps.learning.services import learning_cycle_run

from .test_services import add_outcomes

T = datetime(2016, 1, 6, 21, tzinfo=UTC)
DAY = 86_400.0


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        (None, T, True),  # never cycled
        (T, T + timedelta(hours=23), False),
        (T, T + timedelta(days=1), True),
        (T, T - timedelta(days=3), False),  # a clock that went back never makes one due
    ],
)
def test_cycle_due(last, now, due):
    assert cycle_due(last_cycle_at=last, now=now, min_interval_s=DAY) is due


def test_live_cycles_wait_for_the_interval_on_the_market_clock(strategies):
    add_outcomes(25)
    assert learning_cycle_run(now=T).outcome == "applied"
    add_outcomes(5, seed=2, start=50)
    assert learning_cycle_run(now=T + timedelta(hours=6)).outcome == "too_soon"
    assert learning_cycle_run(now=T + timedelta(days=1)).outcome == "applied"


def test_backtest_cycles_keep_the_same_interval():
    from apps.backtests.tests.conftest import Noise, Oracle, random_walk
    from apps.backtests.tests.test_engine import cfg
    from backtesting.config import SizingKind
    from backtesting.engine import backtest_run

    frames = {t: random_walk(t, 400, seed=s) for t, s in (("AAA", 1), ("BBB", 2), ("CCC", 3))}
    c = cfg(
        ("oracle", "noise"),
        symbols=tuple(frames),
        sizing=SizingKind.EQUITY_FRACTION,
        sizing_value=0.2,
        learning=True,
        learning_params={"update": {"min_trades": 5}, "cadence": {"min_interval_s": 3 * DAY}},
    )
    result = backtest_run(c, frames, strategies={"oracle": Oracle(), "noise": Noise()})
    times = [datetime.fromisoformat(w["time"]) for w in result.weight_history[1:]]
    assert len(times) > 3
    assert all((b - a).total_seconds() >= 3 * DAY for a, b in pairwise(times))
