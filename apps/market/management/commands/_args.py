"""Argument helpers shared by the market commands."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime


def when(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO-8601 time (naive = UTC)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date/time: {text!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def symbols(text: str) -> list[str]:
    return [s.strip().upper() for s in text.replace(" ", ",").split(",") if s.strip()]


def until(text: str) -> datetime:
    """Like :func:`when`, but a bare date means the end of that day (an inclusive ``--end``)."""
    ts = when(text)
    return ts.replace(hour=23, minute=59, second=59, microsecond=999999) if len(text) == 10 else ts
