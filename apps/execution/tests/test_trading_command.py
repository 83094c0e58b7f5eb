"""``manage.py trading``: status, the kill switch, resume and reset on the live account."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.execution.brokers.base import OrderRequest, OrderSide, OrderType
from apps.execution.models import TradingControl
from apps.execution.services import broker_default


def run(*args: str) -> str:
    out = StringIO()
    call_command("trading", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_pause_cancels_orders_resume_and_reset(redis_conn):
    broker = broker_default()
    broker.on_bar("X", time=datetime(2017, 1, 3, tzinfo=UTC), open=10, high=10, low=10, close=10)
    broker.submit_order(
        OrderRequest(
            client_order_id="manual",
            symbol="X",
            side=OrderSide.BUY,
            qty=Decimal(1),
            type=OrderType.LIMIT,
            limit_price=Decimal(5),
            time_in_force="gtc",
        )
    )
    assert "trading active" in run("status")
    out = run("pause", "--reason", "fat finger")
    assert "canceled 1 open order" in out and "trading paused" in out
    assert broker.open_orders() == []
    assert TradingControl.objects.get(pk=1).reason == "fat finger"
    assert "trading active" in run("resume")
    TradingControl.objects.filter(pk=1).update(state="halted", reason="daily_loss: test")
    assert "trading halted" in run("resume")  # a halt needs a reset, not a resume
    out = run("reset")
    assert "trading active" in out
    control = TradingControl.objects.get(pk=1)
    assert control.peak_equity == control.day_start_equity == broker.account().equity


@pytest.mark.django_db
def test_admin_kill_switch_and_pages(admin_client, redis_conn):
    from apps.execution.services import trading_control

    trading_control()
    url = "/admin/execution/tradingcontrol/"
    assert admin_client.get(url).status_code == 200
    resp = admin_client.post(url, {"action": "kill_switch", "_selected_action": ["1"]}, follow=True)
    assert resp.status_code == 200
    assert TradingControl.objects.get(pk=1).state == TradingControl.State.PAUSED
    admin_client.post(url, {"action": "resume", "_selected_action": ["1"]})
    assert TradingControl.objects.get(pk=1).state == TradingControl.State.ACTIVE
    for page in ("trade", "position", "tradeupdate"):
        assert admin_client.get(f"/admin/execution/{page}/").status_code == 200
    assert admin_client.get("/admin/strategies/signal/").status_code == 200
