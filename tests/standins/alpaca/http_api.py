"""The stand-in's HTTP side: routes of the Trading and Market Data APIs, auth, faults, headers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tests.standins.alpaca.faults import Fault
from tests.standins.alpaca.orders import ApiError

if TYPE_CHECKING:
    from tests.standins.alpaca.server import AlpacaStandIn

Json = dict[str, Any]
Route = tuple[str, "re.Pattern[str]", Callable[..., Any]]


def _routes(s: AlpacaStandIn) -> list[Route]:
    b = s.broker

    def orders_get(q: dict[str, str], body: Json) -> Any:
        symbols = [x for x in q.get("symbols", "").split(",") if x]
        return b.list_orders(
            q.get("status", "open"), int(q.get("limit", 50)), symbols, q.get("direction", "desc")
        )

    def clock(q: dict[str, str], body: Json) -> Json:
        from apps.market.calendar import NEW_YORK, market_is_open, next_close, next_open

        now = s.now()
        return {
            "timestamp": now.astimezone(NEW_YORK).isoformat(),
            "is_open": market_is_open(now, calendar="XNYS"),
            "next_open": next_open(now, calendar="XNYS").astimezone(NEW_YORK).isoformat(),
            "next_close": next_close(now, calendar="XNYS").astimezone(NEW_YORK).isoformat(),
        }

    def cancel(q: dict[str, str], body: Json, oid: str) -> tuple[int, None]:
        b.cancel(oid)
        return 204, None

    def control(q: dict[str, str], body: Json) -> Json:
        if "fault" in body:
            s.inject(**body["fault"])
        for sym, px in (body.get("prices") or {}).items():
            s.set_price(sym, px)
        if "fill_mode" in body:
            b.fill_mode = body["fill_mode"]
        if body.get("reset"):
            s.reset()
        return {"fill_mode": b.fill_mode, "faults": len(s.faults)}

    return [
        ("POST", re.compile(r"^/v2/orders$"), lambda q, body: b.submit(body)),
        ("GET", re.compile(r"^/v2/orders$"), orders_get),
        ("DELETE", re.compile(r"^/v2/orders$"), lambda q, body: (207, b.cancel_all())),
        (
            "GET",
            re.compile(r"^/v2/orders:by_client_order_id$"),
            lambda q, body: b.by_client_id(q.get("client_order_id", "")),
        ),
        ("GET", re.compile(r"^/v2/orders/(?P<oid>[^/]+)$"), lambda q, body, oid: b.get(oid)),
        (
            "PATCH",
            re.compile(r"^/v2/orders/(?P<oid>[^/]+)$"),
            lambda q, body, oid: b.replace(oid, body),
        ),
        (
            "DELETE",
            re.compile(r"^/v2/orders/(?P<oid>[^/]+)$"),
            cancel,
        ),
        ("GET", re.compile(r"^/v2/positions$"), lambda q, body: b.list_positions()),
        (
            "GET",
            re.compile(r"^/v2/positions/(?P<sym>[^/]+)$"),
            lambda q, body, sym: b.get_position(sym),
        ),
        (
            "DELETE",
            re.compile(r"^/v2/positions/(?P<sym>[^/]+)$"),
            lambda q, body, sym: b.close_position(sym),
        ),
        ("GET", re.compile(r"^/v2/account$"), lambda q, body: b.account()),
        ("GET", re.compile(r"^/v2/clock$"), clock),
        ("GET", re.compile(r"^/v2/stocks/bars$"), lambda q, body: s.bars.bars(q)),
        ("GET", re.compile(r"^/v2/stocks/bars/latest$"), lambda q, body: s.bars.latest(q)),
        ("GET", re.compile(r"^/v1beta1/news$"), lambda q, body: s.news.query(q)),
        ("POST", re.compile(r"^/_standin$"), control),
    ]


def make_handler(s: AlpacaStandIn) -> type[BaseHTTPRequestHandler]:
    routes = _routes(s)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the stand-in writes no line per request (tests read its recorded calls)."""

        def _answer(
            self, status: int, body: Any = None, headers: dict[str, str] | None = None
        ) -> None:
            # Recorded before the answer leaves: a client that got it can count on the record.
            s._record(self.command, urlsplit(self.path).path, status)
            data = b"" if body is None or status == 204 else json.dumps(body).encode()
            limit = s.rate_limit_per_min or 200
            all_headers = {
                "Content-Type": "application/json; charset=UTF-8",
                "Content-Length": str(len(data)),
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - len(s._window))),
                "X-RateLimit-Reset": str(int(time.time()) + 60),
                **(headers or {}),
            }
            self.send_response(status)
            for k, v in all_headers.items():
                self.send_header(k, v)
            self.end_headers()
            if data:
                self.wfile.write(data)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            path, query = url.path, dict(parse_qsl(url.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            self._dispatch(method, path, query, raw)

        def _dispatch(self, method: str, path: str, query: dict[str, str], raw: bytes) -> int:
            if not path.startswith("/_standin") and (
                self.headers.get("APCA-API-KEY-ID") != s.key
                or self.headers.get("APCA-API-SECRET-KEY") != s.secret
            ):
                self._answer(401, {"code": 40110000, "message": "request is not authorized"})
                return 401
            fault = s._take_fault(method, path)
            if fault and fault.hang_s:
                s._release.wait(fault.hang_s)  # the client times out; stop() releases the thread
            if fault and fault.status:
                return self._fault_answer(fault)
            if s._over_limit():
                return self._fault_answer(Fault(status=429, retry_after_s=1))
            for verb, pattern, fn in routes:
                m = pattern.match(path)
                if verb == method and m:
                    try:
                        body = json.loads(raw) if raw else {}
                        result = fn(query, body, **m.groupdict())
                    except ApiError as err:
                        self._answer(err.status, err.body())
                        return err.status
                    status, payload = result if isinstance(result, tuple) else (200, result)
                    self._answer(status, payload)
                    return status
            self._answer(404, {"code": 40410000, "message": "endpoint not found"})
            return 404

        def _fault_answer(self, fault: Fault) -> int:
            status = fault.status or 500
            headers: dict[str, str] = {}
            if status == 429:
                wait = fault.retry_after_s if fault.retry_after_s is not None else 1
                headers = {"Retry-After": str(wait), "X-RateLimit-Remaining": "0"}
                message = fault.message or "rate limit exceeded"
            else:
                message = fault.message or (
                    "internal server error" if status >= 500 else "forbidden"
                )
            self._answer(status, {"code": status * 100_000, "message": message}, headers)
            return status

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler
