"""Every override is idempotent (same Idempotency-Key twice: one effect) and needs its step-up.
The new-user path ends here too: force-close refused without step-up, one order with it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from apps.api.tests.conftest import SignedIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim_broker(settings: Any, redis_api: Any) -> Any:
    """The simulated broker (state in Redis) holding 10 AAPL at 100, marked by a bar."""
    from apps.execution.services import broker_default

    settings.BROKER_KIND = "simulated"
    return broker_default()


def _open_position(ticker: str = "AAPL", qty: str = "10") -> None:
    from apps.execution.services import context_live
    from apps.execution.services.orders import OrderSpec, market_tick, order_submit
    from apps.market.models import MarketBar

    at = datetime(2026, 1, 5, 15, tzinfo=UTC)
    MarketBar.objects.create(
        symbol=ticker, timeframe="1Day", time=at, open=100, high=101, low=99, close=100, volume=1000
    )
    ctx = context_live()
    order_submit(
        ctx,
        spec=OrderSpec(ticker=ticker, side="buy", qty=Decimal(qty), purpose="entry"),
        client_order_id="tb-entry-test-0001",
        decided_at=at,
    )
    market_tick(ctx=ctx, symbols=[ticker], at=at)


def _post(
    signed_in: SignedIn, path: str, key: str, step_up: str | None = None, body: Any = None
) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key}
    if step_up:
        headers["HTTP_X_STEP_UP"] = step_up
    return signed_in.auth().post(path, body or {}, format="json", **headers)


def test_force_close_needs_step_up_and_places_exactly_one_order(
    signed_in: SignedIn, sim_broker: Any
) -> None:
    from apps.execution.models import Position, Trade

    _open_position()
    assert Position.objects.get(ticker="AAPL").qty == 10
    path = "/api/control/positions/AAPL/close"
    refused = _post(signed_in, path, "close-aapl-0001")
    assert refused.status_code == 403
    assert refused.json()["code"] == "step_up_required"
    assert not Trade.objects.filter(purpose="exit").exists()
    # A grant bound to another ticker does not close AAPL.
    wrong = _post(
        signed_in, path, "close-aapl-0001", signed_in.step_up("force_close", target="MSFT")
    )
    assert wrong.status_code == 403
    grant = signed_in.step_up("force_close", target="AAPL")
    first = _post(signed_in, path, "close-aapl-0001", grant)
    assert first.status_code == 202, first.content
    again = _post(signed_in, path, "close-aapl-0001")  # same key, even without a new step-up
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    exits = Trade.objects.filter(purpose="exit", ticker="AAPL")
    assert exits.count() == 1
    assert exits.get().side == "sell" and exits.get().qty == 10
    assert (
        len([o for o in sim_broker.open_orders() if o.symbol == "AAPL" and o.side == "sell"]) <= 1
    )


def test_same_key_with_another_request_is_refused(signed_in: SignedIn, sim_broker: Any) -> None:
    _open_position()
    grant = signed_in.step_up("force_close")
    assert (
        _post(signed_in, "/api/control/positions/AAPL/close", "key-0000001", grant).status_code
        == 202
    )
    other = _post(
        signed_in,
        "/api/control/positions/MSFT/close",
        "key-0000001",
        signed_in.step_up("force_close"),
    )
    assert other.status_code == 422


def test_missing_or_bad_idempotency_key_is_refused(signed_in: SignedIn) -> None:
    r = signed_in.auth().post(
        "/api/control/pause", {}, format="json", HTTP_X_STEP_UP=signed_in.step_up("pause")
    )
    assert r.status_code == 400
    assert r.json()["code"] == "idempotency_key"
    assert _post(signed_in, "/api/control/pause", "short").status_code == 400


@pytest.mark.parametrize(
    ("path", "action", "body", "check"),
    [
        ("/api/control/pause", "pause", {"reason": "lunch"}, "paused"),
        ("/api/control/kill-switch", "kill_switch", {"reason": "panic"}, "paused"),
        ("/api/strategies/learning/freeze", "learning_freeze", {"frozen": True}, "frozen"),
    ],
)
def test_override_twice_with_one_key_acts_once(
    signed_in: SignedIn, sim_broker: Any, path: str, action: str, body: dict[str, Any], check: str
) -> None:
    from apps.api.models import IdempotentRequest

    key = f"{action}-key-0001"
    first = _post(signed_in, path, key, signed_in.step_up(action), body)
    assert first.status_code == 200, first.content
    second = _post(signed_in, path, key, None, body)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert IdempotentRequest.objects.filter(key=key).count() == 1
    if check == "paused":
        assert first.json()["state"] == "paused"
    else:
        assert first.json()["frozen"] is True


def test_kill_switch_cancels_open_orders_once(signed_in: SignedIn, sim_broker: Any) -> None:
    from apps.execution.services import context_live
    from apps.execution.services.orders import OrderSpec, order_submit

    order_submit(
        context_live(),
        spec=OrderSpec(
            ticker="MSFT",
            side="buy",
            qty=Decimal("5"),
            purpose="entry",
            order_type="limit",
            limit_price=Decimal("1"),
        ),
        client_order_id="tb-limit-test-0001",
        decided_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
    )
    assert len(sim_broker.open_orders()) == 1
    first = _post(
        signed_in, "/api/control/kill-switch", "kill-0000001", signed_in.step_up("kill_switch")
    )
    assert first.status_code == 200, first.content
    assert len(first.json()["canceled_orders"]) == 1
    again = _post(signed_in, "/api/control/kill-switch", "kill-0000001")
    assert again.json()["canceled_orders"] == first.json()["canceled_orders"]
    assert sim_broker.open_orders() == []


def test_resume_and_weights_reset_are_idempotent(signed_in: SignedIn, sim_broker: Any) -> None:
    from apps.learning.models import LearningCycle
    from apps.strategies.seed import strategies_seed

    strategies_seed()
    assert (
        _post(
            signed_in, "/api/control/pause", "pause-k-0001", signed_in.step_up("pause")
        ).status_code
        == 200
    )
    r1 = _post(signed_in, "/api/control/resume", "resume-k-0001", signed_in.step_up("resume"))
    assert r1.status_code == 200 and r1.json()["state"] == "active"
    assert (
        _post(signed_in, "/api/control/resume", "resume-k-0001").headers["Idempotent-Replayed"]
        == "true"
    )
    w1 = _post(
        signed_in,
        "/api/strategies/weights/reset",
        "reset-k-0001",
        signed_in.step_up("weights_reset"),
    )
    assert w1.status_code == 200, w1.content
    w2 = _post(signed_in, "/api/strategies/weights/reset", "reset-k-0001")
    assert w2.json() == w1.json()
    assert LearningCycle.objects.filter(kind="reset").count() == 1


def test_force_close_of_nothing_is_a_404_and_replays_as_such(
    signed_in: SignedIn, sim_broker: Any
) -> None:
    r = _post(
        signed_in,
        "/api/control/positions/TSLA/close",
        "close-tsla-01",
        signed_in.step_up("force_close"),
    )
    assert r.status_code == 404
    assert _post(signed_in, "/api/control/positions/TSLA/close", "close-tsla-01").status_code == 404
