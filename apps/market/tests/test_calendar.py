"""The XNYS calendar: sessions, holidays, half-days, open/closed, extended hours, bar times."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from apps.market import calendar


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_holidays_are_not_sessions():
    assert not calendar.is_session(date(2017, 7, 4), calendar="XNYS")  # Independence Day
    assert not calendar.is_session(date(2017, 12, 25), calendar="XNYS")
    assert calendar.holidays(date(2017, 11, 20), date(2017, 11, 24), calendar="XNYS") == [
        date(2017, 11, 23)
    ]
    assert len(calendar.sessions(date(2017, 1, 1), date(2017, 12, 31), calendar="XNYS")) == 251


@pytest.mark.parametrize(
    ("day", "half"),
    [
        (date(2017, 11, 24), True),
        (date(2017, 7, 3), True),
        (date(2017, 11, 22), False),
        (date(2017, 11, 23), False),
    ],
)
def test_half_days(day, half):
    assert calendar.is_half_day(day, calendar="XNYS") is half


def test_half_day_closes_at_13_new_york():
    opens, closes = calendar.session_bounds(date(2017, 11, 24), calendar="XNYS")
    assert (opens, closes) == (utc(2017, 11, 24, 14, 30), utc(2017, 11, 24, 18, 0))
    with pytest.raises(ValueError, match="not a XNYS session"):
        calendar.session_bounds(date(2017, 11, 23), calendar="XNYS")


@pytest.mark.parametrize(
    ("at", "regular", "extended"),
    [
        (utc(2017, 11, 22, 14, 29), False, True),  # 09:29 ET: pre-market
        (utc(2017, 11, 22, 14, 30), True, True),  # the open
        (utc(2017, 11, 22, 20, 59), True, True),
        (utc(2017, 11, 22, 21, 0), False, True),  # 16:00 ET: post-market
        (utc(2017, 11, 23, 16, 0), False, False),  # Thanksgiving
        (utc(2017, 11, 24, 18, 30), False, True),  # half-day, after the 13:00 close
        (utc(2017, 11, 24, 22, 30), False, False),  # half-day post-market ends at 17:00 ET
        (utc(2017, 11, 25, 16, 0), False, False),  # Saturday
    ],
)
def test_market_is_open(at, regular, extended):
    assert calendar.market_is_open(at, calendar="XNYS") is regular
    assert calendar.market_is_open(at, extended_hours=True, calendar="XNYS") is extended


def test_orders_allowed_follows_the_extended_hours_setting(settings):
    pre_market = utc(2017, 11, 22, 13, 0)
    settings.TRADING_ALLOW_EXTENDED_HOURS = False
    assert not calendar.orders_allowed(pre_market)
    settings.TRADING_ALLOW_EXTENDED_HOURS = True
    assert calendar.orders_allowed(pre_market)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        calendar.market_is_open(datetime(2017, 11, 22, 15), calendar="XNYS")


def test_next_open_and_close_skip_the_holiday():
    at = utc(2017, 11, 22, 22, 0)
    assert calendar.next_open(at, calendar="XNYS") == utc(2017, 11, 24, 14, 30)
    assert calendar.next_close(at, calendar="XNYS") == utc(2017, 11, 24, 18, 0)


def test_expected_bar_times():
    daily = calendar.expected_bar_times(
        utc(2017, 11, 20), utc(2017, 11, 25), "1Day", calendar="XNYS"
    )
    assert [t.date() for t in daily.tz_convert(calendar.NEW_YORK)] == [
        date(2017, 11, 20),
        date(2017, 11, 21),
        date(2017, 11, 22),
        date(2017, 11, 24),
    ]
    assert daily[0] == utc(2017, 11, 20, 5)  # midnight New York, as Alpaca stamps daily bars
    minutes = calendar.expected_bar_times(
        utc(2017, 11, 24), utc(2017, 11, 25), "1Min", calendar="XNYS"
    )
    assert len(minutes) == 210  # 09:30-13:00 on the half-day
    five = calendar.expected_bar_times(
        utc(2017, 11, 24), utc(2017, 11, 25), "5Min", calendar="XNYS"
    )
    assert len(five) == 42 and five[1] == utc(2017, 11, 24, 14, 35)
    hourly = calendar.expected_bar_times(
        utc(2017, 11, 22), utc(2017, 11, 23), "1Hour", calendar="XNYS"
    )
    assert len(hourly) == 7  # 09:30, 10:30, ... 15:30


def test_missing_times():
    stored = [utc(2017, 11, 20, 5), utc(2017, 11, 22, 5)]
    missing = calendar.missing_times(
        stored, utc(2017, 11, 20), utc(2017, 11, 25), "1Day", calendar="XNYS"
    )
    assert missing == [utc(2017, 11, 21, 5), utc(2017, 11, 24, 5)]
