"""Local stand-in servers for the news sources, serving real recorded payloads.

One threaded stdlib HTTP server on 127.0.0.1 (random port) with a route table. Each stand-in answers
the way its real service does (status codes, headers, JSON shapes), built from the recordings and
specs in /work/shared/data:

- RSS: the real Yahoo/CNBC feed snapshots, with ETag / Last-Modified and 304 on a conditional GET;
- Reddit: PRAW's own Betamax cassettes (real Reddit API traffic) replayed for the real PRAW client;
- X v2 recent search: StockNet's real tweets (Twitter API JSON) re-shaped into v2 ``data`` /
  ``includes`` / ``meta`` per the X API docs;
- Alpaca news: the bodies of Alpaca's docs examples and alpaca-py's own test fixtures.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The project's real-data folder (a sibling of the checkout); TRADEBOT_SHARED_DATA overrides it.
SHARED = Path(
    os.environ.get(
        "TRADEBOT_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data"
    )
)
NEWS = SHARED / "news"
RSS_SAMPLES = NEWS / "rss_samples"
CASSETTES = NEWS / "reddit" / "praw_cassettes"
STOCKNET_RAW = NEWS / "stocknet_tweets" / "raw_sample"
ALPACA = SHARED / "alpaca"


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up on purpose (size caps, timeouts) are expected, not worth a traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class StandInServer:
    """A tiny routing HTTP server in a thread. ``stop`` ends handlers that sleep (hanging sources)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                """No access log: the test's own assertions say what was requested."""

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                server.requests.append(request)
                handler = server.routes.get((method, parts.path))
                response = handler(request) if handler else Response(404, b'{"error": 404}')
                if server.stopping.is_set():
                    self.close_connection = True  # hang up, so a waiting client is released
                    return
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if isinstance(response.body, bytes):
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    if method != "HEAD":
                        self.wfile.write(response.body)
                    return
                # A generator body goes out chunked, without a Content-Length (like a live stream).
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in response.body:
                        if server.stopping.is_set():
                            self.close_connection = True
                            return
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client cut the download off, as it should

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.httpd = _QuietServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def start(self) -> StandInServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def sleep(self, seconds: float) -> None:
        """Sleep like a hung server, but wake up when the test ends."""
        self.stopping.wait(seconds)


# --- RSS ------------------------------------------------------------------------------------------


def rss_sample(name: str) -> bytes:
    return (RSS_SAMPLES / name).read_bytes()


def feed_handler(content: bytes, *, content_type: str = "application/rss+xml") -> Handler:
    """Serve ``content`` with a strong ETag and Last-Modified; answer 304 when the client has it."""
    etag = '"' + hashlib.sha1(content).hexdigest()[:16] + '"'
    last_modified = format_datetime(datetime(2019, 7, 24, 12, 0, tzinfo=UTC), usegmt=True)

    def handle(request: Request) -> Response:
        headers = {"ETag": etag, "Last-Modified": last_modified, "Content-Type": content_type}
        if request.headers.get("if-none-match") == etag or (
            "if-none-match" not in request.headers
            and request.headers.get("if-modified-since") == last_modified
        ):
            return Response(304, b"", {"ETag": etag, "Last-Modified": last_modified})
        return Response(200, content, headers)

    return handle


def edgar_atom() -> bytes:
    """An EDGAR "current filings" Atom feed (``getcurrent&output=atom`` layout, ISO-8859-1 declared)
    whose entries are the real filings of the EDGAR daily index excerpt in the shared data."""
    index = (NEWS / "sec_edgar_samples" / "master.20181231.idx.txt").read_text()
    rows = [line.split("|") for line in index.splitlines() if line.count("|") == 4][1:]
    summary = (
        " &lt;b&gt;Filed:&lt;/b&gt; 2018-12-31 &lt;b&gt;AccNo:&lt;/b&gt; {accession} "
        "&lt;b&gt;Size:&lt;/b&gt; 12 KB"
    )
    entries = []
    for n, (cik, company, form, _, filename) in enumerate(rows):
        accession = filename.rsplit("/", 1)[1].removesuffix(".txt")
        folder = accession.replace("-", "")
        role = "Reporting" if form == "4" else "Filer"
        entries.append(
            f"""<entry>
<title>{form} - {company.replace("&", "&amp;")} ({int(cik):010d}) ({role})</title>
<link rel="alternate" type="text/html" href="https://www.sec.gov/Archives/edgar/data/{cik}/{folder}/{accession}-index.htm"/>
<summary type="html">{summary.format(accession=accession)}</summary>
<updated>2018-12-31T17:{n:02d}:00-05:00</updated>
<category scheme="https://www.sec.gov/" label="form type" term="{form}"/>
<id>urn:tag:sec.gov,2008:accession-number={accession}</id>
</entry>"""
        )
    head = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Latest Filings - Mon, 31 Dec 2018 17:20:01 EST</title>
<link rel="alternate" href="/cgi-bin/browse-edgar?action=getcurrent"/>
<id>https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent</id>
<author><name>Webmaster</name><email>webmaster@sec.gov</email></author>
<updated>2018-12-31T17:20:01-05:00</updated>
"""
    return (head + "\n".join(entries) + "\n</feed>\n").encode("iso-8859-1")


def last_modified_only(content: bytes) -> Handler:
    """A server that sends Last-Modified but no ETag (conditional GET by date only)."""
    stamp = "Wed, 24 Jul 2019 12:00:00 GMT"

    def handle(request: Request) -> Response:
        if request.headers.get("if-modified-since") == stamp:
            return Response(304, b"", {"Last-Modified": stamp})
        return Response(200, content, {"Last-Modified": stamp, "Content-Type": "application/xml"})

    return handle


def huge_feed(total_bytes: int = 50 * 1024 * 1024) -> Handler:
    """A syntactically valid feed of ``total_bytes``, generated on the fly (never stored)."""

    def body() -> Iterable[bytes]:
        yield b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>'
        item = b"<item><title>Filler headline about $AAPL</title><description>" + b"x" * 4000
        item += b"</description></item>"
        chunk = item * 256  # about 1 MB
        sent = 0
        while sent < total_bytes:
            yield chunk
            sent += len(chunk)
        yield b"</channel></rss>"

    return lambda request: Response(200, body(), {"Content-Type": "application/rss+xml"})


def hanging(server: StandInServer, seconds: float = 60.0) -> Handler:
    def handle(request: Request) -> Response:
        server.sleep(seconds)
        return Response(200, b"", {"Content-Type": "application/rss+xml"})

    return handle


# --- Reddit (PRAW cassettes) ----------------------------------------------------------------------


def _cassette_interactions() -> list[dict[str, Any]]:
    out = []
    for path in sorted(CASSETTES.glob("*.json")):
        out.extend(json.loads(path.read_text())["interactions"])
    return out


def install_reddit(server: StandInServer) -> None:
    """Replay PRAW's recorded Reddit traffic: the token endpoint and the recorded listings."""
    interactions = _cassette_interactions()
    token = next(i for i in interactions if i["request"]["uri"].endswith("/api/v1/access_token"))
    listings: dict[str, list[dict[str, Any]]] = {}
    for inter in interactions:
        parts = urlsplit(inter["request"]["uri"])
        if parts.netloc == "oauth.reddit.com" and inter["request"]["method"] == "GET":
            listings.setdefault(parts.path.rstrip("/"), []).append(inter)

    def recorded(inter: dict[str, Any]) -> Response:
        resp = inter["response"]
        headers = {"Content-Type": resp["headers"].get("Content-Type", ["application/json"])[0]}
        return Response(resp["status"]["code"], resp["body"]["string"].encode("utf-8"), headers)

    def access_token(request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Basic "):
            return Response(401, b'{"message": "Unauthorized", "error": 401}')
        return recorded(token)

    def listing(request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("bearer "):
            return Response(401, b'{"message": "Unauthorized", "error": 401}')
        candidates = listings.get(request.path.rstrip("/"), [])
        before = request.arg("before")
        for inter in candidates:
            recorded_query = parse_qs(urlsplit(inter["request"]["uri"]).query)
            if recorded_query.get("before", [""])[0] == before:
                return recorded(inter)
        return Response(404, b'{"message": "Not Found", "error": 404}')

    server.route("POST", "/api/v1/access_token", access_token)
    for path in listings:
        server.route("GET", path, listing)
        server.route("GET", path + "/", listing)


# --- X v2 recent search ---------------------------------------------------------------------------


def stocknet_raw_tweets() -> list[dict[str, Any]]:
    tweets = []
    for path in sorted(STOCKNET_RAW.glob("*/*")):
        for line in path.read_text().splitlines():
            if line.strip():
                tweets.append(json.loads(line))
    return tweets


def _v2_tweet(status: dict[str, Any]) -> dict[str, Any]:
    created = datetime.strptime(status["created_at"], "%a %b %d %H:%M:%S %z %Y")
    return {
        "id": status["id_str"],
        "text": status["text"],
        "created_at": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "author_id": status["user"]["id_str"],
        "lang": status.get("lang", "en"),
        "edit_history_tweet_ids": [status["id_str"]],
    }


def install_x(server: StandInServer, token: str) -> None:
    """``GET /2/tweets/search/recent`` over StockNet's real tweets, shaped as the X v2 API answers."""
    statuses = {s["id_str"]: s for s in stocknet_raw_tweets()}

    def search(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            body = {"title": "Unauthorized", "type": "about:blank", "status": 401}
            return Response(401, json.dumps({**body, "detail": "Unauthorized"}).encode())
        query = request.arg("query")
        cashtags = {w.strip("()").upper() for w in query.split() if w.strip("()").startswith("$")}
        since_id = int(request.arg("since_id") or 0)
        max_results = int(request.arg("max_results") or 10)
        hits = [
            s
            for s in statuses.values()
            if int(s["id_str"]) > since_id
            and (not cashtags or any(tag in s["text"].upper() for tag in cashtags))
        ]
        hits.sort(key=lambda s: int(s["id_str"]), reverse=True)  # newest first, like the API
        hits = hits[:max_results]
        if not hits:
            return Response(200, json.dumps({"meta": {"result_count": 0}}).encode(), _json())
        users = {s["user"]["id_str"]: s["user"] for s in hits}
        payload = {
            "data": [_v2_tweet(s) for s in hits],
            "includes": {
                "users": [
                    {"id": uid, "name": u["name"], "username": u["screen_name"]}
                    for uid, u in users.items()
                ]
            },
            "meta": {
                "newest_id": hits[0]["id_str"],
                "oldest_id": hits[-1]["id_str"],
                "result_count": len(hits),
            },
        }
        return Response(200, json.dumps(payload).encode(), _json())

    server.route("GET", "/2/tweets/search/recent", search)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8"}


# --- Alpaca news ----------------------------------------------------------------------------------


def alpaca_news_items() -> list[dict[str, Any]]:
    """Every distinct news object in Alpaca's docs examples and alpaca-py's test fixtures."""
    items: dict[int, dict[str, Any]] = {}
    for record in json.loads(
        (ALPACA / "alpaca_py_test_payloads" / "alpaca_py_mocked_responses.json").read_text()
    ):
        body = record.get("response_json")
        if isinstance(body, dict) and isinstance(body.get("news"), list):
            for news in body["news"]:
                if news.get("url", "").startswith("https://www."):
                    items[news["id"]] = news
    for block in json.loads(
        (ALPACA / "docs_examples" / "alpaca_docs_code_blocks.json").read_text()
    ):
        body = block.get("json")
        if "news" in block["source_file"] and isinstance(body, dict):
            for news in body.get("news", []) if "news" in body else [body]:
                if "headline" in news and "T" not in news:
                    # The docs' model example omits keys the API always sends (``url`` may be null).
                    news.setdefault("content", "")
                    news.setdefault("images", [])
                    news.setdefault("url", None)
                    items[news["id"]] = news
    return list(items.values())


def install_alpaca_news(server: StandInServer, key: str, secret: str) -> None:
    """``GET /v1beta1/news`` as the Market Data API answers it (auth headers, symbols, start)."""
    items = alpaca_news_items()

    def news(request: Request) -> Response:
        if (
            request.headers.get("apca-api-key-id") != key
            or request.headers.get("apca-api-secret-key") != secret
        ):
            body = {"code": 40110000, "message": "request is not authorized"}
            return Response(401, json.dumps(body).encode(), _json())
        symbols = {s for s in request.arg("symbols").split(",") if s}
        start = request.arg("start")
        limit = int(request.arg("limit") or 10)
        hits = [
            n
            for n in items
            if (not symbols or symbols & set(n["symbols"]))
            and (not start or _ts(n["created_at"]) >= _ts(start))
        ]
        hits.sort(key=lambda n: n["created_at"], reverse=request.arg("sort", "desc") == "desc")
        payload = {"news": hits[:limit], "next_page_token": None}
        return Response(200, json.dumps(payload).encode(), _json())

    server.route("GET", "/v1beta1/news", news)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wait_for_requests(server: StandInServer, path: str, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(r.path == path for r in server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
