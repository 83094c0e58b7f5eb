from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.learning.outcomes import FilledOrder, outcome_compute

T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entry_side", "entry_px", "exit_px", "pnl", "roi", "win"),
    [
        ("buy", "100", "110", "100.0000", 10.0, True),  # long, up
        ("buy", "100", "95", "-50.0000", -5.0, False),  # long, down
        ("sell", "100", "90", "100.0000", 10.0, True),  # short, down
        ("sell", "100", "104", "-40.0000", -4.0, False),  # short, up
        ("buy", "100", "100", "0.0000", 0.0, False),  # flat is not a win
    ],
)
def test_round_trip(entry_side, entry_px, exit_px, pnl, roi, win):
    exit_side = "sell" if entry_side == "buy" else "buy"
    v = outcome_compute(
        entry=FilledOrder(entry_side, D(10), D(entry_px), T0),
        exit=FilledOrder(exit_side, D(10), D(exit_px), T0 + timedelta(hours=26)),
    )
    assert v.realized_pnl == D(pnl)
    assert v.roi_pct == pytest.approx(roi)
    assert v.was_profitable is win
    assert v.hold_duration == timedelta(hours=26)


def test_commissions_and_given_pnl():
    entry = FilledOrder("buy", D(10), D(100), T0, commission=D("1"))
    exit_ = FilledOrder("sell", D(10), D(101), T0 + timedelta(minutes=5), commission=D("1"))
    assert outcome_compute(entry=entry, exit=exit_).realized_pnl == D("8.0000")
    # the execution stage's own figure wins when it has one
    given = outcome_compute(entry=entry, exit=exit_, realized_pnl=D("7.5"))
    assert given.realized_pnl == D("7.5000")
    assert given.roi_pct == pytest.approx(0.75)


def test_negative_hold_is_clamped():
    v = outcome_compute(
        entry=FilledOrder("buy", D(1), D(10), T0),
        exit=FilledOrder("sell", D(1), D(11), T0 - timedelta(seconds=1)),
    )
    assert v.hold_duration == timedelta(0)
