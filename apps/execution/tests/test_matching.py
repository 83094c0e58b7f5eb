"""The shared matching rules, one table, run in Decimals (the broker) and in floats (the
backtester): both number types must give the same answer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.execution.matching import fill_quantity, order_match

# kind, buy, (open, high, low), terms, expected base price (None: no fill), triggered, watermark
CASES = [
    ("market", True, (10, 11, 9), {}, 10, False, None),
    ("limit", True, (10, 11, 9), {"limit": 9.5}, 9.5, False, None),
    ("limit", True, (9, 11, 8), {"limit": 9.5}, 9, False, None),  # opens better: the open
    ("limit", True, (10, 11, 9.6), {"limit": 9.5}, None, False, None),
    ("limit", False, (10, 11, 9), {"limit": 10.5}, 10.5, False, None),
    ("stop", False, (10, 11, 9), {"stop": 9.5}, 9.5, False, None),
    ("stop", False, (9, 10, 8), {"stop": 9.5}, 9, False, None),  # gap through: the open
    ("stop", True, (10, 11, 9), {"stop": 10.5}, 10.5, False, None),
    ("stop", True, (10, 10.4, 9), {"stop": 10.5}, None, False, None),
    ("stop_limit", False, (10, 11, 9), {"stop": 9.5, "limit": 9.4}, 9.5, True, None),
    ("stop_limit", False, (9, 10, 8), {"stop": 9.5, "limit": 9.4}, None, True, None),
    ("stop_limit", False, (9.45, 9.6, 9.4), {"limit": 9.4, "triggered": True}, 9.45, True, None),
    # trailing sell at 10 %: level 9 from watermark 10; the bar does not reach it, the high ratchets
    (
        "trailing_stop",
        False,
        (10, 12, 9.5),
        {"watermark": 10, "trail_percent": 10},
        None,
        False,
        12,
    ),
    # the ratchet comes after the trigger check: a bar that triggers does not move the watermark
    ("trailing_stop", False, (10, 12, 8), {"watermark": 10, "trail_percent": 10}, 9, False, 10),
    ("trailing_stop", True, (10, 10.5, 8), {"watermark": 10, "trail_percent": 10}, None, False, 8),
]


@pytest.mark.parametrize("num", [float, lambda x: Decimal(str(x))], ids=["float", "decimal"])
@pytest.mark.parametrize(("kind", "buy", "bar", "terms", "base", "triggered", "watermark"), CASES)
def test_order_match(num, kind, buy, bar, terms, base, triggered, watermark):
    o, h, lo = (num(x) for x in bar)
    kw = {k: (v if isinstance(v, bool) else num(v)) for k, v in terms.items()}
    m = order_match(kind=kind, buy=buy, open_=o, high=h, low=lo, **kw)
    assert (m.base is None) == (base is None)
    if base is not None:
        assert m.base == num(base)
    assert m.triggered is triggered
    if watermark is not None:
        assert m.watermark == num(watermark)


def test_partial_fills_take_whole_shares_up_to_the_cap():
    assert fill_quantity(Decimal(100), Decimal("37.9")) == Decimal(37)
    assert fill_quantity(100.0, 37.9) == 37.0
    assert fill_quantity(Decimal(10), None) == Decimal(10)
