"""The replay clock: order of emission, visibility at the bar's close, scaled sleeps (counted)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.market.contracts import Bar
from apps.market.sources.replay import SimClock, bar_visible_at, merge_by_visibility, replay


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def minute(symbol: str, m: int) -> Bar:
    return Bar(symbol, "1Min", utc(2021, 8, 23, 13, 30 + m), 1, 1, 1, 1, 1)


def test_bars_are_visible_at_their_close():
    assert bar_visible_at(minute("A", 0)) == utc(2021, 8, 23, 13, 31)
    assert bar_visible_at(Bar("A", "5Min", utc(2021, 8, 23, 13, 30), 1, 1, 1, 1, 1)) == utc(
        2021, 8, 23, 13, 35
    )
    daily = Bar("A", "1Day", utc(2017, 11, 22, 5), 1, 1, 1, 1, 1)
    assert bar_visible_at(daily) == utc(2017, 11, 22, 21)  # the 16:00 ET close
    half_day = Bar("A", "1Day", utc(2017, 11, 24, 5), 1, 1, 1, 1, 1)
    assert bar_visible_at(half_day) == utc(2017, 11, 24, 18)  # 13:00 ET on the half-day


def test_replay_merges_symbols_and_sleeps_scaled_gaps():
    sleeps: list[float] = []
    a = [minute("A", m) for m in (0, 1, 3)]
    b = [minute("B", m) for m in (0, 2)]
    clock = SimClock(utc(2021, 8, 23, 13, 30), speed=60.0, sleep=sleeps.append)  # 1 min -> 1 s
    out = list(replay(merge_by_visibility(a, b), clock))
    assert [(bar.symbol, at.minute) for at, bar in out] == [
        ("A", 31),
        ("B", 31),
        ("A", 32),
        ("B", 33),
        ("A", 34),
    ]
    assert sleeps == [1.0, 1.0, 1.0, 1.0]  # the open->first close, then one per new minute
    assert clock.now() == utc(2021, 8, 23, 13, 34)


def test_speed_zero_never_sleeps_and_the_clock_never_goes_back():
    sleeps: list[float] = []
    clock = SimClock(utc(2021, 8, 23, 13, 32), sleep=sleeps.append)
    out = list(replay([minute("A", 0), minute("A", 1), minute("A", 5)], clock))
    assert [bar.time.minute for _, bar in out] == [31, 35]  # the first bar ended before the start
    assert sleeps == [] and clock.slept_s == 0


def test_clock_validation():
    with pytest.raises(ValueError):
        SimClock(datetime(2021, 1, 1))
    with pytest.raises(ValueError):
        SimClock(utc(2021, 1, 1), speed=-1)
