"""Position sizing and portfolio marks for the engine (pure functions over the books).

``RISK`` sizing is the live risk manager (:func:`backtesting.stages.risk_entry`) asked at the
decision bar; the other kinds are simple rules for studies and the parity case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backtesting.book import Book
from backtesting.config import BacktestConfig, SizingKind


def equity_at_open(books: Sequence[Book], cash: float, t_ns: int) -> float:
    """Cash plus open positions, each marked at its open at ``t`` (or its last close before)."""
    eq = cash
    for b in books:
        if b.position is not None:
            i = b.first_bar_after(t_ns, inclusive=True)
            px = b.frame.open[i] if i < b.n and b.time[i] == t_ns else b.frame.close[i - 1]
            eq += b.position.qty * float(px)
    return eq


def portfolio_at_close(
    books: Sequence[Book], cash: float, t_ns: int
) -> tuple[dict[str, tuple[float, float]], float]:
    """Holdings ``ticker -> (signed qty, last close <= t)`` and equity, as the risk manager sees
    the account at a decision. As live, an entry order still working counts as if filled."""
    holdings: dict[str, tuple[float, float]] = {}
    equity = cash
    for b in books:
        p = b.pending
        working = p is not None and p.qty is not None and p.direction != 0
        if b.position is None and not working:
            continue
        i = b.first_bar_after(t_ns, inclusive=False) - 1
        px = float(b.frame.close[max(i, 0)])
        if b.position is not None:
            holdings[b.ticker] = (b.position.qty, px)
            equity += b.position.qty * px
        elif p is not None and p.qty is not None:
            holdings[b.ticker] = (p.direction * p.qty, px)
    return holdings, equity


def size_by_rule(
    *,
    config: BacktestConfig,
    books: Sequence[Book],
    book: Book,
    bar: int,
    price: float,
    direction: int,
    cash: float,
) -> float:
    """Shares for a non-risk sizing kind at fill ``price``, never spending more than the budget
    (commission included: ``floor(budget / (price · (1 + fee rate)))``, then trimmed for fixed fees)."""
    kind = config.sizing
    if kind is SizingKind.FIXED_SHARES:
        return max(config.sizing_value, 0.0)
    if kind is SizingKind.CASH_FRACTION:
        budget = cash * config.sizing_value
    else:
        budget = equity_at_open(books, cash, int(book.time[bar])) * config.sizing_value
        if direction > 0:
            budget = min(budget, cash)
    fee = config.commission.fee_float
    qty = budget / (price * (1.0 + config.commission.rate()))
    if config.whole_shares:
        qty = float(math.floor(qty))
    while qty > 0 and qty * price + fee(qty, price) > budget + 1e-9:
        qty -= 1.0 if config.whole_shares else qty * 0.01
    return max(qty, 0.0)
