"""The Alpaca stand-in: Trading API + Market Data API over HTTP, trade updates and bars over WebSocket.

Built from Alpaca's OpenAPI specs and real payloads (see ``tests/standins/alpaca/README`` in
``docs/alpaca.md``). Point alpaca-py at it with ``url_override``::

    TradingClient(key, secret, paper=True, url_override=standin.trading_url)
    StockHistoricalDataClient(key, secret, url_override=standin.data_url)
    TradingStream(key, secret, paper=True, url_override=standin.trading_stream_url)
    StockDataStream(key, secret, url_override=standin.data_stream_url)

Fault injection (``inject``): answer a status (429 with ``Retry-After``/``X-RateLimit-*``, 5xx,
403...), or hang past the client's timeout, for the next N matching requests.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import ThreadingHTTPServer
from typing import Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve

from tests.standins.alpaca.faults import Fault, Seen
from tests.standins.alpaca.http_api import make_handler
from tests.standins.alpaca.marketdata import BarStore, NewsStore, parse_time
from tests.standins.alpaca.state import Brokerage

Json = dict[str, Any]
KEY, SECRET = "standin-key", "standin-secret"
DATA_CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)


class AlpacaStandIn:
    """Start with :meth:`start` (or as a context manager); state lives in :attr:`broker`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ws_port: int = 0,
        *,
        key: str = KEY,
        secret: str = SECRET,
        load_bars: bool = True,
        rate_limit_per_min: int | None = None,
    ) -> None:
        self.host, self._port, self._ws_port = host, port, ws_port
        self.key, self.secret = key, secret
        self.clock_now: datetime | None = None  # frozen market time; None = real time
        self.bars = BarStore()
        self.news = NewsStore()
        if load_bars:
            self.bars.load_project_data()
        self.broker = Brokerage(now=self.now, price_source=self.bars.last_close)
        self.rate_limit_per_min = rate_limit_per_min
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._window: list[float] = []
        self._http: ThreadingHTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws_server: Server | None = None
        self._trade_conns: set[ServerConnection] = set()
        self._data_conns: dict[ServerConnection, dict[str, set[str]]] = {}
        self.broker.listeners.append(self._broadcast_trade_update)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> AlpacaStandIn:
        handler = make_handler(self)
        self._http = ThreadingHTTPServer((self.host, self._port), handler)
        self._http.daemon_threads = True
        threading.Thread(
            target=self._http.serve_forever, args=(0.05,), name="alpaca-standin-http", daemon=True
        ).start()
        ready = threading.Event()
        threading.Thread(
            target=self._run_ws, args=(ready,), name="alpaca-standin-ws", daemon=True
        ).start()
        if not ready.wait(10):
            raise RuntimeError("stand-in WebSocket server did not start")
        return self

    def _run_ws(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def start() -> Server:
            return await serve(self._ws_handler, self.host, self._ws_port)

        self._ws_server = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._ws_server.wait_closed())
        loop.close()

    def stop(self) -> None:
        self._release.set()
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._loop and self._ws_server:
            self._loop.call_soon_threadsafe(self._ws_server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def __enter__(self) -> AlpacaStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._http is not None
        return int(self._http.server_address[1])

    @property
    def ws_port(self) -> int:
        assert self._ws_server is not None
        return int(next(iter(self._ws_server.sockets)).getsockname()[1])

    @property
    def trading_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    data_url = trading_url  # one HTTP server answers both APIs (paths do not overlap)

    @property
    def trading_stream_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}/stream"

    @property
    def data_stream_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}/v2/iex"

    def env(self) -> dict[str, str]:
        """Settings (environment) that point the bot's Alpaca adapter at this stand-in."""
        return {
            "BROKER": "alpaca",
            "ALPACA_API_KEY": self.key,
            "ALPACA_SECRET_KEY": self.secret,
            "ALPACA_BASE_URL": self.trading_url,
            "ALPACA_DATA_URL": self.data_url,
            "ALPACA_STREAM_URL": self.trading_stream_url,
            "ALPACA_DATA_STREAM_URL": self.data_stream_url,
        }

    # --- control (tests call these; the HTTP /_standin endpoints call them too) ------------------
    def now(self) -> datetime:
        return self.clock_now or datetime.now(UTC)

    def inject(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def set_price(self, symbol: str, price: float | Decimal | str) -> None:
        self.broker.set_price(symbol.upper(), Decimal(str(price)))

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self._window.clear()
        fresh = Brokerage(
            now=self.now, listeners=self.broker.listeners, price_source=self.bars.last_close
        )
        with self.broker.lock:
            self.broker.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})

    def count(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method)
                and (path is None or r.path.startswith(path))
                and (status is None or r.status == status)
            )

    def push_bar(self, symbol: str, bar: Json, kind: str = "b") -> int:
        """Send a bar (``{"t": datetime|str, "o", "h", "l", "c", "v"}``) to data-stream subscribers."""
        channel = {"b": "bars", "u": "updatedBars", "d": "dailyBars"}[kind]
        ts = bar["t"] if isinstance(bar["t"], datetime) else parse_time(str(bar["t"]))
        msg = {
            "T": kind,
            "S": symbol,
            **{k: v for k, v in bar.items() if k != "t"},
            "t": msgpack.Timestamp.from_datetime(ts),
        }
        msg.setdefault("n", 0)
        msg.setdefault("vw", msg.get("c"))
        payload = msgpack.packb([msg])
        sent = 0
        for conn, subs in list(self._data_conns.items()):
            if symbol in subs[channel] or "*" in subs[channel]:
                self._send(conn, payload)
                sent += 1
        return sent

    def subscribers(self, stream: str = "trade_updates") -> int:
        if stream == "trade_updates":
            return len(self._trade_conns)
        return sum(1 for subs in self._data_conns.values() if subs["bars"] or subs["dailyBars"])

    # --- request plumbing -----------------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _over_limit(self) -> bool:
        if not self.rate_limit_per_min:
            return False
        now = time.monotonic()
        with self._lock:
            self._window = [t for t in self._window if now - t < 60]
            if len(self._window) >= self.rate_limit_per_min:
                return True
            self._window.append(now)
        return False

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(Seen(method, path, status))

    def _send(self, conn: ServerConnection, payload: str | bytes) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(conn.send(payload), self._loop)

    def _broadcast_trade_update(self, event: Json) -> None:
        text = json.dumps(event)
        for conn in list(self._trade_conns):
            self._send(conn, text)

    # --- WebSocket ------------------------------------------------------------------------------
    async def _ws_handler(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request else ""
        if path.startswith("/stream"):
            await self._trading_ws(conn)
        elif path.startswith("/v2/"):
            await self._data_ws(conn)
        else:
            await conn.close(1008, "unknown stream")

    async def _trading_ws(self, conn: ServerConnection) -> None:
        authed = False
        try:
            async for raw in conn:
                msg = json.loads(raw)
                action, data = msg.get("action"), msg.get("data") or {}
                if action in {"authenticate", "auth"}:
                    authed = (
                        data.get("key_id") == self.key and data.get("secret_key") == self.secret
                    )
                    status = "authorized" if authed else "unauthorized"
                    await conn.send(
                        json.dumps(
                            {
                                "stream": "authorization",
                                "data": {"status": status, "action": "authenticate"},
                            }
                        )
                    )
                elif action == "listen":
                    if not authed:
                        await conn.send(
                            json.dumps(
                                {
                                    "stream": "authorization",
                                    "data": {"status": "unauthorized", "action": "listen"},
                                }
                            )
                        )
                        continue
                    streams = [s for s in data.get("streams", []) if s == "trade_updates"]
                    if streams:
                        self._trade_conns.add(conn)
                    else:
                        self._trade_conns.discard(conn)
                    await conn.send(
                        json.dumps({"stream": "listening", "data": {"streams": streams}})
                    )
        finally:
            self._trade_conns.discard(conn)

    async def _data_ws(self, conn: ServerConnection) -> None:
        await conn.send(msgpack.packb([{"T": "success", "msg": "connected"}]))
        subs: dict[str, set[str]] = {c: set() for c in DATA_CHANNELS}
        authed = False
        try:
            async for raw in conn:
                msg = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
                action = msg.get("action")
                if action == "auth":
                    authed = msg.get("key") == self.key and msg.get("secret") == self.secret
                    reply = (
                        {"T": "success", "msg": "authenticated"}
                        if authed
                        else {"T": "error", "code": 402, "msg": "auth failed"}
                    )
                    await conn.send(msgpack.packb([reply]))
                elif not authed:
                    await conn.send(
                        msgpack.packb([{"T": "error", "code": 401, "msg": "not authenticated"}])
                    )
                elif action in {"subscribe", "unsubscribe"}:
                    for ch in DATA_CHANNELS:
                        names = set(msg.get(ch) or [])
                        subs[ch] = subs[ch] | names if action == "subscribe" else subs[ch] - names
                    self._data_conns[conn] = subs
                    await conn.send(
                        msgpack.packb(
                            [{"T": "subscription", **{c: sorted(subs[c]) for c in DATA_CHANNELS}}]
                        )
                    )
                else:
                    await conn.send(
                        msgpack.packb([{"T": "error", "code": 400, "msg": "invalid syntax"}])
                    )
        finally:
            self._data_conns.pop(conn, None)
