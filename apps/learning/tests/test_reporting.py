"""Strategy metrics and portfolio snapshots."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from prometheus_client import REGISTRY

from apps.execution.brokers import registry
from apps.execution.brokers.base import Account, Broker, BrokerPosition, MarketClock
from apps.execution.models import Position
from apps.learning import reporting
from apps.learning.models import PortfolioSnapshot, StrategyMetric
from apps.learning.reporting import portfolio_snapshot_record, strategy_metrics_record
from apps.learning.stats import OutcomeRow, drawdown_compute, strategy_stats
from apps.learning.tests.conftest import T0, outcome_row, round_trip


def test_strategy_stats_pure():
    rows = [
        OutcomeRow(T0, 0.02, D("20"), {"a": 0.75, "b": -0.25}),
        OutcomeRow(T0 + timedelta(days=1), -0.01, D("-10"), {"a": 1.0}),
        OutcomeRow(T0 + timedelta(days=2), 0.03, D("30"), {"a": 0.5, "b": 0.5}),
    ]
    a = strategy_stats(rows=rows, strategy="a")
    assert (a.trades, a.wins) == (3, 2)
    assert a.win_rate == pytest.approx(2 / 3)
    assert a.pnl == D("20.0000")  # 15 - 10 + 15
    assert a.sharpe is not None and a.sharpe > 0
    b = strategy_stats(rows=rows, strategy="b")
    assert (b.trades, b.wins, b.pnl) == (2, 1, D("10.0000"))  # -5 + 15
    assert strategy_stats(rows=rows[:1], strategy="a").sharpe is None  # one day: undefined
    assert strategy_stats(rows=rows, strategy="nobody").trades == 0


def test_drawdown():
    assert drawdown_compute(value=D(90), peak=D(100)) == pytest.approx(0.1)
    assert drawdown_compute(value=D(110), peak=D(100)) == 0.0
    assert drawdown_compute(value=D(50), peak=None) == 0.0


def test_strategy_metrics_rows(strategies):
    outcome_row(roi_pct=2.0, shares={"momentum": 0.8, "news_driven": 0.2}, closed_at=T0, pnl="20")
    outcome_row(roi_pct=-1.0, shares={"momentum": 1.0}, closed_at=T0 + timedelta(days=1), pnl="-10")
    rows = strategy_metrics_record(now=T0 + timedelta(days=2, seconds=42))
    assert len(rows) == 3
    m = StrategyMetric.objects.get(strategy__name="momentum")
    assert m.time == T0 + timedelta(days=2) - timedelta(seconds=T0.second)
    assert (m.trades, m.win_rate, m.pnl) == (2, 0.5, D("6.0000"))
    assert m.sharpe is not None
    assert m.weight == D("0.33333334")  # momentum: seeded with the rounding remainder
    mr = StrategyMetric.objects.get(strategy__name="mean_reversion")
    assert (mr.trades, mr.sharpe) == (0, None)
    strategy_metrics_record(now=T0 + timedelta(days=2, seconds=50))  # same minute: updated
    assert StrategyMetric.objects.count() == 3


class FixedBroker(Broker):
    """A broker adapter with a fixed account (the broker port's contract, nothing else)."""

    kind = "h6-fixed"

    def account(self):
        return Account(equity=D("101000"), cash=D("91000"), buying_power=D("91000"))

    def positions(self):
        return [
            BrokerPosition("AAPL", D(50), D(190), market_value=D("10000")),
            BrokerPosition("TSLA", D(-5), D(200), current_price=D(200)),
        ]

    def clock(self):
        return MarketClock(timestamp=T0, is_open=True)

    def submit_order(self, request):
        raise AssertionError("a portfolio snapshot never touches orders")

    def cancel_order(self, broker_order_id):
        raise AssertionError("a portfolio snapshot never touches orders")

    def replace_order(self, broker_order_id, **kw):
        raise AssertionError("a portfolio snapshot never touches orders")

    def get_order(self, broker_order_id):
        raise AssertionError("a portfolio snapshot never touches orders")

    def get_order_by_client_id(self, client_order_id):
        return None

    def open_orders(self):
        return []


def test_snapshot_from_the_broker_account(db, settings, monkeypatch):
    monkeypatch.setitem(registry.BROKERS, "h6-fixed", f"{__name__}.FixedBroker")
    settings.BROKER_KIND = "h6-fixed"
    before = REGISTRY.get_sample_value("tradebot_learning_snapshots_total", {"source": "broker"})
    snap = portfolio_snapshot_record(now=T0)
    assert (snap.broker, snap.value, snap.cash, snap.exposure) == (
        "h6-fixed",
        D("101000"),
        D("91000"),
        D("11000"),
    )
    assert snap.drawdown == 0.0 and snap.daily_pnl == 0
    after = REGISTRY.get_sample_value("tradebot_learning_snapshots_total", {"source": "broker"})
    assert after == (before or 0) + 1


def test_snapshot_falls_back_to_the_database(strategies, settings, caplog, monkeypatch):
    def unreachable():
        raise ConnectionError("broker unreachable")

    settings.BROKER_KIND = "simulated"
    monkeypatch.setattr(reporting, "broker_default", unreachable)
    settings.PORTFOLIO_INITIAL_CASH = "10000"
    round_trip(ticker="AAPL", entry_px="100", exit_px="110", qty="10")  # +100 realised
    _, open_entry, exit_ = round_trip(ticker="MSFT", entry_px="50", exit_px="50", qty="20")
    exit_.delete()  # still open: 20 MSFT bought at 50
    Position.objects.create(
        ticker="MSFT",
        qty=D(20),
        avg_entry=D(50),
        last_price=D(45),
        opened_at=T0,
        entry_trade=open_entry,
    )
    # yesterday's snapshot and an earlier peak
    PortfolioSnapshot.objects.create(
        time=T0 - timedelta(days=3),
        value=D("12000"),
        cash=D(0),
        exposure=D(0),
        daily_pnl=D(0),
        drawdown=0,
    )
    PortfolioSnapshot.objects.create(
        time=T0 - timedelta(days=1),
        value=D("10500"),
        cash=D(0),
        exposure=D(0),
        daily_pnl=D(0),
        drawdown=0,
    )
    snap = portfolio_snapshot_record(now=T0)
    # cash: 10000 - 1000 + 1100 - 1000 = 9100; value: 9100 + 20 * 45 = 10000
    assert (snap.cash, snap.exposure, snap.value) == (D("9100"), D("900"), D("10000"))
    assert snap.daily_pnl == D("-500")  # against yesterday's 10500
    assert snap.drawdown == pytest.approx(2000 / 12000)
    assert "snapshot computed from the database" in caplog.text
