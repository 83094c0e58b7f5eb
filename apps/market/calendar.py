"""The exchange calendar (``exchange_calendars``, XNYS by default): sessions, holidays, half-days.

Pure functions over UTC datetimes; no ORM. Bar-time conventions follow Alpaca: a daily bar is
stamped at midnight America/New_York of its session date (04:00 or 05:00 UTC), a minute bar at the
start of its minute. ``orders_allowed`` is what execution asks before sending an order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xc
import numpy as np
import pandas as pd
from django.conf import settings

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_CLOSE = time(16, 0)
PRE_MARKET_OPEN = time(4, 0)  # Alpaca's extended hours: 04:00-09:30 and 16:00-20:00 ET
POST_MARKET_CLOSE = time(20, 0)
DAILY = "1Day"


@lru_cache(maxsize=4)
def exchange_calendar(name: str = "XNYS") -> xc.ExchangeCalendar:
    """The calendar from 2000 to one year ahead (cached: building it takes ~100 ms)."""
    end = (pd.Timestamp.now(tz="UTC") + pd.DateOffset(years=1)).strftime("%Y-%m-%d")
    return xc.get_calendar(name, start="2000-01-03", end=end)


def _cal(name: str | None) -> xc.ExchangeCalendar:
    if name is None:
        name = getattr(settings, "MARKET_CALENDAR", "XNYS")
    return exchange_calendar(name)


def _utc(at: datetime) -> pd.Timestamp:
    ts = pd.Timestamp(at)
    if ts.tzinfo is None:
        raise ValueError("naive datetime: pass an aware (UTC) datetime")
    return ts.tz_convert("UTC")


def sessions(start: date, end: date, *, calendar: str | None = None) -> list[date]:
    """Trading sessions from ``start`` to ``end`` inclusive."""
    idx = _cal(calendar).sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))
    return [d.date() for d in idx]


def is_session(day: date, *, calendar: str | None = None) -> bool:
    return bool(_cal(calendar).is_session(pd.Timestamp(day)))


def holidays(start: date, end: date, *, calendar: str | None = None) -> list[date]:
    """Weekdays in the range on which the exchange is closed."""
    weekdays = pd.bdate_range(start, end)
    open_days = set(sessions(start, end, calendar=calendar))
    return [d.date() for d in weekdays if d.date() not in open_days]


def session_bounds(day: date, *, calendar: str | None = None) -> tuple[datetime, datetime]:
    """(open, close) of a session in UTC. Raises ValueError if ``day`` is not a session."""
    return _session_bounds(day, calendar or getattr(settings, "MARKET_CALENDAR", "XNYS"))


@lru_cache(maxsize=8192)
def _session_bounds(day: date, calendar: str) -> tuple[datetime, datetime]:
    # Pure and asked for on every decision (a daily bar's visibility): ~0.5 ms through pandas,
    # a dict lookup once cached. A day that is not a session raises, and is not cached.
    cal = _cal(calendar)
    label = pd.Timestamp(day)
    if not cal.is_session(label):
        raise ValueError(f"{day} is not a {cal.name} session")
    return cal.session_open(label).to_pydatetime(), cal.session_close(label).to_pydatetime()


def is_half_day(day: date, *, calendar: str | None = None) -> bool:
    """True on early-close sessions (e.g. the day after Thanksgiving: 13:00 ET)."""
    if not is_session(day, calendar=calendar):
        return False
    _, close = session_bounds(day, calendar=calendar)
    return close.astimezone(NEW_YORK).time() < REGULAR_CLOSE


def market_is_open(
    at: datetime, *, extended_hours: bool = False, calendar: str | None = None
) -> bool:
    """Is ``at`` inside a regular session (or inside Alpaca's extended hours of a session day)?"""
    cal = _cal(calendar)
    ts = _utc(at)
    if cal.is_open_on_minute(ts):
        return True
    if not extended_hours:
        return False
    local = ts.tz_convert(NEW_YORK)
    day = pd.Timestamp(local.date())
    if not cal.is_session(day):
        return False
    close = cal.session_close(day).tz_convert(NEW_YORK)
    # On half-days the post-market ends four hours after the early close (17:00 ET).
    post_end = min(POST_MARKET_CLOSE, (close + pd.Timedelta(hours=4)).time())
    return PRE_MARKET_OPEN <= local.time() < post_end


def orders_allowed(at: datetime) -> bool:
    """May an order be sent at ``at``? Regular session only unless TRADING_ALLOW_EXTENDED_HOURS."""
    return market_is_open(at, extended_hours=bool(settings.TRADING_ALLOW_EXTENDED_HOURS))


def next_open(at: datetime, *, calendar: str | None = None) -> datetime:
    return _cal(calendar).next_open(_utc(at)).to_pydatetime()


def next_close(at: datetime, *, calendar: str | None = None) -> datetime:
    return _cal(calendar).next_close(_utc(at)).to_pydatetime()


def daily_bar_time(day: date) -> datetime:
    """Alpaca's stamp of a daily bar: midnight New York of the session date, as UTC."""
    return pd.Timestamp(datetime.combine(day, time(0), NEW_YORK)).tz_convert("UTC").to_pydatetime()


def timeframe_minutes(timeframe: str) -> int:
    """Minutes in an intraday timeframe string (``1Min``, ``5Min``, ``1Hour``)."""
    for suffix, mult in (("Min", 1), ("T", 1), ("Hour", 60), ("H", 60)):
        if timeframe.endswith(suffix) and timeframe[: -len(suffix)].isdigit():
            return int(timeframe[: -len(suffix)]) * mult
    raise ValueError(f"not an intraday timeframe: {timeframe!r}")


def expected_bar_times(
    start: datetime, end: datetime, timeframe: str, *, calendar: str | None = None
) -> pd.DatetimeIndex:
    """Bar open times (UTC) a complete data set would have in [start, end] for ``timeframe``."""
    cal = _cal(calendar)
    s, e = _utc(start), _utc(end)
    if timeframe == DAILY:
        days = cal.sessions_in_range(
            pd.Timestamp(s.tz_convert(NEW_YORK).date()), pd.Timestamp(e.tz_convert(NEW_YORK).date())
        )
        stamps = pd.DatetimeIndex([daily_bar_time(d.date()) for d in days])
        return stamps[(stamps >= s) & (stamps <= e)] if len(stamps) else stamps
    step = timeframe_minutes(timeframe)
    first = cal.minute_to_trading_minute(s, direction="next") if not cal.is_trading_minute(s) else s
    if first > e:
        return pd.DatetimeIndex([], tz="UTC")
    minutes = cal.minutes_in_range(first, e)
    if step == 1:
        return minutes
    # Intraday bars of N minutes start on multiples of N counted from each session's open.
    opens = cal.minutes_to_sessions(minutes)
    first_minutes = cal.session_first_minute
    offsets = np.array(
        [
            (m - first_minutes(sess)).total_seconds() // 60
            for m, sess in zip(minutes, opens, strict=True)
        ]
    )
    return minutes[offsets % step == 0]


def missing_times(
    stored: Iterable[datetime],
    start: datetime,
    end: datetime,
    timeframe: str,
    *,
    calendar: str | None = None,
) -> list[datetime]:
    """Expected bar times in [start, end] that are absent from ``stored``."""
    have = {_utc(t) for t in stored}
    return [
        t.to_pydatetime()
        for t in expected_bar_times(start, end, timeframe, calendar=calendar)
        if t not in have
    ]
