"""The WebSocket: single-use tickets, origins, events from the bus, catch-up, closing on sign-out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from rest_framework.test import APIClient

from apps.api.tests.conftest import ORIGIN, SignedIn

pytestmark = pytest.mark.django_db(transaction=True)


def _app() -> Any:
    from tradebot.asgi import application

    return application


def _socket(ticket: str, origin: str | None = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(_app(), f"/ws/?ticket={ticket}", headers=headers)


def _ticket(signed_in: SignedIn) -> str:
    r = signed_in.auth().post("/api/ws-ticket")
    assert r.status_code == 201, r.content
    assert r.json()["expires_in"] == 30
    return str(r.json()["ticket"])


async def _open(ticket: str) -> WebsocketCommunicator:
    ws = _socket(ticket)
    connected, _ = await ws.connect()
    assert connected
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws


async def test_a_ticket_opens_one_socket_once(signed_in: SignedIn, redis_api: Any) -> None:
    ticket = await database_sync_to_async(_ticket)(signed_in)
    assert 0 < redis_api.ttl(f"api:wsticket:{ticket}") <= 30
    ws = await _open(ticket)
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5)) == {"type": "pong"}
    await ws.disconnect()
    again = _socket(ticket)
    connected, code = await again.connect()
    assert not connected
    assert code == 4401


async def test_no_or_made_up_ticket_is_refused(redis_api: Any) -> None:
    for ticket in ("", "made-up-ticket"):
        connected, code = await _socket(ticket).connect()
        assert not connected
        assert code == 4401


async def test_foreign_or_missing_origin_is_refused(signed_in: SignedIn, redis_api: Any) -> None:
    ticket = await database_sync_to_async(_ticket)(signed_in)
    for origin in ("https://evil.example", None):
        connected, _ = await _socket(ticket, origin=origin).connect()
        assert not connected
    # The refused attempts never reached the consumer: the ticket is still unused.
    ws = await _open(ticket)
    await ws.disconnect()


async def test_events_reach_the_socket_with_ids_and_catch_up_returns_what_was_missed(
    signed_in: SignedIn, redis_api: Any
) -> None:
    from apps.api.realtime.events import EventType, event_publish

    ws = await _open(await database_sync_to_async(_ticket)(signed_in))
    first = await database_sync_to_async(event_publish)(
        type=EventType.ORDER_UPDATED, data={"trade_id": 1, "status": "accepted"}
    )
    got = await ws.receive_json_from(timeout=5)
    assert got == first
    await ws.disconnect()
    # Missed while disconnected:
    missed = [
        await database_sync_to_async(event_publish)(
            type=EventType.TRADE_EXECUTED, data={"trade_id": i, "status": "filled"}
        )
        for i in range(3)
    ]
    assert first is not None
    catch_up = await database_sync_to_async(
        lambda: signed_in.auth().get("/api/events", {"since": first["id"], "limit": 2}).json()
    )()
    assert [e["id"] for e in catch_up["events"]] == [m["id"] for m in missed[:2] if m]
    assert catch_up["more"] and not catch_up["reset"]
    rest = await database_sync_to_async(
        lambda: signed_in.auth().get("/api/events", {"since": catch_up["last_id"]}).json()
    )()
    assert [e["data"]["trade_id"] for e in rest["events"]] == [2]
    assert not rest["more"]


async def test_sign_out_closes_the_sockets_of_that_sign_in(
    signed_in: SignedIn, redis_api: Any
) -> None:
    from django.conf import settings

    ws = await _open(await database_sync_to_async(_ticket)(signed_in))

    def sign_out() -> int:
        c = APIClient()
        c.cookies[settings.API_REFRESH_COOKIE] = signed_in.refresh_cookie
        return int(c.post("/api/auth/refresh/sign-out", HTTP_ORIGIN=ORIGIN).status_code)

    assert await database_sync_to_async(sign_out)() == 204
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4001}
    # Its access token is refused at once too, and no new ticket is issued for it.
    status = await database_sync_to_async(
        lambda: signed_in.auth().post("/api/ws-ticket").status_code
    )()
    assert status == 401


async def test_bridge_forwards_committed_bus_events_only(
    signed_in: SignedIn, redis_api: Any
) -> None:
    from apps.api.realtime.bridge import EventBridge
    from apps.bus.names import Stream
    from apps.bus.outbox import publish
    from apps.execution.contracts import TradeEvent

    bridge = EventBridge(consumer="test")
    await database_sync_to_async(bridge.ensure_groups)()
    await database_sync_to_async(bridge.watch)(force=True)
    ws = await _open(await database_sync_to_async(_ticket)(signed_in))

    def fill(trade_id: int, *, commit: bool) -> None:
        with transaction.atomic():
            publish(
                Stream.TRADES_EXECUTED,
                TradeEvent(
                    trade_id=trade_id,
                    client_order_id=f"tb-{trade_id}",
                    ticker="AAPL",
                    side="buy",
                    qty=Decimal("10"),
                    status="filled",
                    timestamp=datetime(2026, 1, 5, 15, tzinfo=UTC),
                    price=Decimal("101.25"),
                ),
                event_id=uuid.uuid4(),
            )
            if not commit:
                transaction.set_rollback(True)

    await database_sync_to_async(fill)(1, commit=False)
    await database_sync_to_async(fill)(2, commit=True)
    assert await database_sync_to_async(bridge.step)(block_ms=100) == 1
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "trade.executed"
    assert event["data"]["trade_id"] == 2
    assert event["data"]["price"] == "101.25"
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_bridge_reports_trading_state_changes(signed_in: SignedIn, redis_api: Any) -> None:
    from apps.api.realtime.bridge import EventBridge
    from apps.execution.services import trading_pause

    bridge = EventBridge(consumer="test")
    await database_sync_to_async(bridge.ensure_groups)()
    await database_sync_to_async(bridge.watch)(force=True)
    ws = await _open(await database_sync_to_async(_ticket)(signed_in))
    await database_sync_to_async(trading_pause)(reason="test", broker=None)
    await database_sync_to_async(bridge.watch)(force=True)
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "trading.state_changed"
    assert event["data"]["state"] == "paused"
    await ws.disconnect()
