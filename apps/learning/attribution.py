"""Attribution (pure): who gets the credit or the blame for a trade.

A signal is the ensemble's weighted vote ``Σ_i weight_i · score_i``; its sign is the trade's
direction ``d`` (+1 long, -1 short). Strategy ``i`` *contributed* ``c_i = d · weight_i · score_i``:
positive when it voted with the trade, negative when it voted against it. Its **share** is

    share_i = c_i / Σ_j |c_j|          (so Σ_i |share_i| = 1)

and the credit it receives for a trade's result ``x`` (P&L or ROI) is ``share_i · x``. A strategy
that pushed for a winning trade is credited; one that argued against it is blamed, and the other
way round for a losing trade. A strategy with a zero contribution did not take part in the trade
(it does not count towards its minimum-trades guardrail either).

No ORM here: the live consumer and the backtester call the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SHARE_DIGITS = 8  # shares are stored rounded, so a replay from the database sees the same numbers


@dataclass(frozen=True, slots=True)
class Contribution:
    """One strategy's part in a signal (the shape of ``Signal.strategy_sources`` items)."""

    strategy: str
    score: float  # the strategy's own score in [-1, 1]
    weight: float  # its ensemble weight when the signal was made


def direction_sign(direction: str) -> int:
    """+1 for long, -1 for short, 0 for anything else (flat signals open no trades)."""
    return {"long": 1, "short": -1}.get(str(direction).lower(), 0)


def contributions_parse(sources: Iterable[Any]) -> list[Contribution]:
    """Read ``Signal.strategy_sources`` (dicts) or any objects with ``strategy``, ``score`` and
    ``weight`` attributes (``SignalEvent.contributions``) into :class:`Contribution`.

    Malformed items (no name, non-numeric score/weight) are skipped rather than failing the
    outcome: attribution is best effort, the outcome itself must still be recorded.
    """
    out: list[Contribution] = []
    for item in sources:
        if isinstance(item, Contribution):
            out.append(item)
            continue
        get = item.get if isinstance(item, Mapping) else lambda k, d=None, o=item: getattr(o, k, d)
        try:
            name = str(get("strategy") or "")
            score = float(get("score", 0.0))
            weight = float(get("weight", 0.0))
        except (TypeError, ValueError):
            continue
        if name:
            out.append(Contribution(strategy=name, score=score, weight=weight))
    return out


def attribution_compute(
    *, direction: str, contributions: Iterable[Contribution]
) -> dict[str, float]:
    """Signed credit shares per strategy; ``{}`` when nothing can be attributed.

    Duplicate strategy names are summed. Shares are rounded to 8 decimals; strategies whose share
    rounds to zero are left out (they did not take part).
    """
    d = direction_sign(direction)
    if d == 0:
        return {}
    aligned: dict[str, float] = {}
    for c in contributions:
        aligned[c.strategy] = aligned.get(c.strategy, 0.0) + d * c.weight * c.score
    total = sum(abs(v) for v in aligned.values())
    if total <= 0.0:
        return {}
    shares = {name: round(v / total, SHARE_DIGITS) for name, v in sorted(aligned.items())}
    return {name: s for name, s in shares.items() if s != 0.0}


def credit_split(*, shares: Mapping[str, float], amount: float) -> dict[str, float]:
    """Split ``amount`` (a trade's P&L or ROI) into each strategy's signed credit."""
    return {name: share * amount for name, share in shares.items()}
