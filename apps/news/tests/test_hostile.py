"""Hostile input against the news fetcher, each case with a local server of its own.

Server-side request forgery (redirects inside, other schemes, DNS that points inside), decompression
bombs, a server that drips its headers, an expired poll, an empty body, items from 2099, a feed of
10,000 items and XML with entity declarations. The poll records each as the source's error (or a
warning) and nothing of what a hostile server sent reaches the database or the bus.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bus.names import Stream
from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.sources import http as news_http
from apps.news.tests.conftest import metric
from apps.news.tests.standins import Response, StandInServer

pytestmark = pytest.mark.usefixtures("news_settings", "no_default_sources")

FEED = (
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
    b"<item><title>Apple $AAPL beats estimates</title><link>https://example.com/a</link></item>"
    b"</channel></rss>"
)
SECRET = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>internal</title>"
    b"<item><title>INTERNAL SECRET admin token</title></item></channel></rss>"
)


def source_for(url: str, name: str = "hostile") -> NewsSource:
    return NewsSource.objects.create(
        name=name, kind=NewsSource.Kind.RSS, url=url, poll_interval_s=60
    )


@pytest.fixture
def internal() -> Iterator[StandInServer]:
    """A second server on another loopback address, standing for an internal service."""
    server = StandInServer(host="127.0.0.2")
    server.route("GET", "/secret", lambda r: Response(200, SECRET, {"Content-Type": "text/xml"}))
    server.start()
    yield server
    server.close()


def redirect(to: str) -> Response:
    return Response(302, b"", {"Location": to})


# --- server-side request forgery ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_redirect_to_an_internal_address_is_refused(standin, internal, settings, redis_conn):
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the feed's own host only
    standin.route("GET", "/feed", lambda r: redirect(internal.url("/secret")))
    source = source_for(standin.url("/feed"))

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error"
    assert outcome.error.startswith("forbidden: 127.0.0.2 resolves to 127.0.0.2 (loopback)")
    assert internal.requests == []  # never connected
    assert not Article.objects.exists()
    assert redis_conn.xlen(Stream.NEWS_RAW.value) == 0
    source.refresh_from_db()
    assert source.consecutive_errors == 1 and source.last_error.startswith("forbidden:")


@pytest.mark.django_db
def test_redirect_to_the_cloud_metadata_address_is_refused(standin, settings):
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    standin.route(
        "GET", "/feed", lambda r: redirect("http://169.254.169.254/latest/meta-data/iam/")
    )
    outcome = source_poll(source_id=source_for(standin.url("/feed")).pk)
    assert outcome.error.startswith(
        "forbidden: 169.254.169.254 resolves to 169.254.169.254 (link-local)"
    )


@pytest.mark.django_db
def test_other_schemes_are_refused_on_the_source_and_on_a_redirect(standin):
    standin.route("GET", "/feed", lambda r: redirect("file:///etc/passwd"))
    outcome = source_poll(source_id=source_for(standin.url("/feed")).pk)
    assert outcome.error.startswith("forbidden: file: URLs are refused (only http and https)")

    direct = source_poll(source_id=source_for("file:///etc/passwd", "file").pk)
    assert direct.error.startswith("forbidden: only http and https URLs can be polled")


@pytest.mark.django_db
def test_the_allow_list_lets_an_intranet_feed_through(standin, internal, settings):
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32", "127.0.0.2/32"]
    standin.route("GET", "/feed", lambda r: redirect(internal.url("/secret")))
    outcome = source_poll(source_id=source_for(standin.url("/feed")).pk)
    assert (outcome.outcome, outcome.stored) == ("ok", 1)


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(standin, monkeypatch):
    """The name is resolved once, checked, and that address is connected to (no second lookup
    that a rebinding DNS server could answer differently)."""
    standin.route("GET", "/feed", lambda r: Response(200, FEED, {"Content-Type": "text/xml"}))
    port = standin.httpd.server_address[1]
    answers = iter(["127.0.0.1", "10.0.0.7"])  # a second lookup would get an internal address
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "feed.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(news_http.socket, "getaddrinfo", rebinding)
    outcome = source_poll(source_id=source_for(f"http://feed.test:{port}/feed").pk)

    assert (outcome.outcome, outcome.stored) == ("ok", 1)
    assert lookups == ["feed.test"]
    assert standin.requests[-1].headers["host"] == f"feed.test:{port}"


@pytest.mark.django_db
def test_a_name_with_any_internal_address_is_refused(monkeypatch):
    monkeypatch.setattr(
        news_http.socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ],
    )
    outcome = source_poll(source_id=source_for("http://mixed.test/feed").pk)
    assert outcome.error.startswith("forbidden: mixed.test resolves to 10.0.0.7 (private)")


@pytest.mark.django_db
def test_x_shares_the_guarded_http_layer(settings, internal):
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.X_BEARER_TOKEN = "token"
    settings.X_API_URL = internal.base_url
    source = NewsSource.objects.create(
        name="x", kind=NewsSource.Kind.X, account="$AAPL", poll_interval_s=60
    )
    outcome = source_poll(source_id=source.pk)
    assert outcome.error.startswith("forbidden: 127.0.0.2 resolves to 127.0.0.2 (loopback)")
    assert internal.requests == []


# --- decompression bombs --------------------------------------------------------------------------


@pytest.mark.django_db
def test_stacked_gzip_is_refused_before_inflating(standin):
    bomb = gzip.compress(gzip.compress(b"\0" * (20 * 1024 * 1024)))
    standin.route("GET", "/bomb", lambda r: Response(200, bomb, {"Content-Encoding": "gzip, gzip"}))
    outcome = source_poll(source_id=source_for(standin.url("/bomb"), "bomb").pk)
    assert outcome.error == "encoding: stacked content encodings refused: gzip, gzip"
    assert metric("tradebot_news_source_errors_total", source="bomb", kind="encoding") == 1


@pytest.mark.django_db
def test_unknown_encoding_is_refused(standin):
    standin.route("GET", "/z", lambda r: Response(200, b"xx", {"Content-Encoding": "zstd"}))
    outcome = source_poll(source_id=source_for(standin.url("/z")).pk)
    assert outcome.error == "encoding: unknown content encoding refused: zstd"


@pytest.mark.django_db
def test_a_gzip_bomb_is_cut_off_while_inflating(standin, news_settings):
    news_settings.NEWS_MAX_FEED_BYTES = 1024 * 1024
    bomb = gzip.compress(b"<rss>" + b" " * (200 * 1024 * 1024))  # 200 MB in about 200 KB
    assert len(bomb) < news_settings.NEWS_MAX_FEED_BYTES
    standin.route("GET", "/bomb", lambda r: Response(200, bomb, {"Content-Encoding": "gzip"}))
    outcome = source_poll(source_id=source_for(standin.url("/bomb")).pk)
    assert outcome.error == "too_large: body inflates past the 1,048,576 byte cap; download cut off"


@pytest.mark.django_db
def test_gzip_and_deflate_feeds_are_read(standin):
    standin.route(
        "GET", "/g", lambda r: Response(200, gzip.compress(FEED), {"Content-Encoding": "gzip"})
    )
    standin.route(
        "GET", "/d", lambda r: Response(200, zlib.compress(FEED), {"Content-Encoding": "deflate"})
    )
    assert source_poll(source_id=source_for(standin.url("/g"), "g").pk).stored == 1
    deflated = source_poll(source_id=source_for(standin.url("/d"), "d").pk)
    assert (deflated.outcome, deflated.fetched) == ("ok", 1)  # same item: a duplicate
    assert standin.requests[0].headers["accept-encoding"] == "gzip, deflate"


# --- slow-loris, expired polls ---------------------------------------------------------------------


def dripping_server(pieces: Iterable[bytes]) -> Iterator[str]:
    """A server that accepts, then sends ``pieces`` one every 0.2 s."""
    stop = threading.Event()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)

    def drip(conn: socket.socket) -> None:
        with conn:
            for piece in pieces:
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(piece)
                except OSError:
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/feed"
    stop.set()
    sock.close()


@pytest.fixture
def slow_loris() -> Iterator[str]:
    """Status line and one endless header, a byte every 0.2 s."""
    header = b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 100_000
    yield from dripping_server([bytes([byte]) for byte in header])


@pytest.fixture
def slow_lines() -> Iterator[str]:
    """Whole header lines, one every 0.2 s: cut off mid-way, it looks like headers that ended."""
    yield from dripping_server([b"HTTP/1.1 200 OK\r\n"] + [b"X-Filler: a\r\n"] * 90)


@pytest.mark.django_db
def test_headers_dripped_byte_by_byte_hit_the_one_deadline(slow_loris, news_settings):
    news_settings.NEWS_HTTP_TIMEOUT_S = 1.0  # each byte comes well within this
    news_settings.NEWS_FETCH_DEADLINE_S = 2.0
    source = source_for(slow_loris, "loris")
    before = timezone.now()

    outcome = source_poll(source_id=source.pk)

    assert outcome.error.startswith("timeout: ReadTimeout after ")
    assert "the 2s deadline for the whole fetch passed" in outcome.error
    source.refresh_from_db()
    # Backoff counts from the end of the poll, which cannot come before the deadline.
    assert source.backoff_until is not None and source.last_polled_at is not None
    assert source.backoff_until >= before + timedelta(seconds=2.0 + 60)
    assert source.last_polled_at >= before + timedelta(seconds=2.0)


@pytest.mark.django_db
def test_a_poll_that_expired_in_the_queue_is_recorded_on_its_source(standin, news_settings):
    from tasks.news import poll_source

    standin.route("GET", "/feed", lambda r: Response(200, FEED))
    source = source_for(standin.url("/feed"), "late")
    queued_at = time.time() - news_settings.NEWS_POLL_EXPIRES_S - 30

    assert poll_source.run(source.pk, queued_at=queued_at) == "error"

    source.refresh_from_db()
    assert source.last_error.startswith("expired: poll waited ")
    assert "the news worker is saturated" in source.last_error
    assert source.consecutive_errors == 1 and source.backoff_until is not None
    assert standin.requests == []
    assert metric("tradebot_news_source_errors_total", source="late", kind="expired") == 1


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_body_is_a_clear_parse_error(standin):
    standin.route("GET", "/empty", lambda r: Response(200, b"", {"Content-Type": "text/xml"}))
    outcome = source_poll(source_id=source_for(standin.url("/empty"), "empty").pk)
    assert outcome.error == "parse: empty body: the server answered with no content"
    assert metric("tradebot_news_source_errors_total", source="empty", kind="other") == 0


@pytest.mark.django_db
def test_an_item_dated_2099_is_stored_with_the_fetch_time_and_a_warning(standin):
    body = FEED.replace(
        b"</title><link>", b"</title><pubDate>Thu, 01 Jan 2099 00:00:00 GMT</pubDate><link>"
    )
    standin.route("GET", "/future", lambda r: Response(200, body))
    source = source_for(standin.url("/future"), "future")

    outcome = source_poll(source_id=source.pk)

    assert (outcome.outcome, outcome.stored) == ("ok", 1)
    article = Article.objects.get()
    assert article.published_at == article.fetched_at
    source.refresh_from_db()
    assert "1 item(s) dated more than 86400s after the fetch" in source.last_error
    assert metric("tradebot_news_source_warnings_total", source="future") == 1


@pytest.mark.django_db
def test_a_feed_of_10000_items_keeps_the_cap_and_says_so(standin, news_settings):
    news_settings.NEWS_MAX_ITEMS_PER_POLL = 200
    items = b"".join(b"<item><title>Headline %d on $AAPL</title></item>" % n for n in range(10_000))
    body = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>" + items
    standin.route("GET", "/big", lambda r: Response(200, body + b"</channel></rss>"))
    source = source_for(standin.url("/big"), "big")

    outcome = source_poll(source_id=source.pk)

    assert (outcome.outcome, outcome.stored) == ("ok", 200)
    source.refresh_from_db()
    assert "feed had 10,000 items; kept the first 200" in source.last_error
    assert metric("tradebot_news_source_warnings_total", source="big") == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>&lol3;</title></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&x;</title></item></channel></rss>"""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, XXE, BILLION_LAUGHS.decode().encode("utf-16")],
    ids=["entity-expansion", "external-entity", "utf-16"],
)
def test_xml_with_entity_declarations_is_refused_before_parsing(standin, body):
    standin.route("GET", "/dtd", lambda r: Response(200, body, {"Content-Type": "text/xml"}))
    outcome = source_poll(source_id=source_for(standin.url("/dtd")).pk)
    assert outcome.error == (
        "parse: XML with a DTD or entity declarations refused before parsing (entity expansion)"
    )
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_an_old_rss_091_doctype_without_declarations_is_still_read(standin):
    body = FEED.replace(
        b"<rss version='2.0'>",
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">',
    )
    standin.route("GET", "/old", lambda r: Response(200, body))
    outcome = source_poll(source_id=source_for(standin.url("/old")).pk)
    assert (outcome.outcome, outcome.stored) == ("ok", 1)


# --- Reddit (PRAW) and Alpaca News (alpaca-py): the same limits through the guarded session ------

TOKEN = json.dumps(
    {"access_token": "t", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
).encode()


def reddit_source(settings, base_url: str) -> NewsSource:
    settings.REDDIT_CLIENT_ID, settings.REDDIT_CLIENT_SECRET = "client-id", "client-secret"
    settings.REDDIT_OAUTH_URL = settings.REDDIT_URL = base_url
    # The migration seeds an "r/stocks" source (a test that flushes the database removes it).
    NewsSource.objects.filter(name="r/stocks").delete()
    return NewsSource.objects.create(
        name="r/stocks", kind=NewsSource.Kind.REDDIT, subreddit="stocks", poll_interval_s=60
    )


def alpaca_source(settings, base_url: str) -> NewsSource:
    settings.ALPACA_API_KEY, settings.ALPACA_SECRET_KEY = "key-id", "secret"
    settings.ALPACA_DATA_URL = base_url
    return NewsSource.objects.create(
        name="alpaca",
        kind=NewsSource.Kind.ALPACA,
        options={"symbols": ["AAPL"]},
        poll_interval_s=60,
    )


# The first request each client library sends: PRAW asks for a token, alpaca-py for the news.
CLIENTS: dict[str, tuple[Callable[..., NewsSource], str, str]] = {
    "reddit": (reddit_source, "POST", "/api/v1/access_token"),
    "alpaca": (alpaca_source, "GET", "/v1beta1/news"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", CLIENTS)
def test_client_library_redirect_to_an_internal_address_is_refused(
    kind, standin, internal, settings, redis_conn
):
    make_source, method, path = CLIENTS[kind]
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    # 307 keeps the method: requests follows it (PRAW's token POST and alpaca-py's GET alike).
    standin.route(method, path, lambda r: Response(307, b"", {"Location": internal.url(path)}))
    source = make_source(settings, standin.base_url)

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error"
    assert outcome.error.startswith("forbidden: 127.0.0.2 resolves to 127.0.0.2 (loopback)")
    assert [(r.method, r.path) for r in standin.requests] == [(method, path)]
    assert internal.requests == []  # never connected
    assert not Article.objects.exists()
    assert redis_conn.xlen(Stream.NEWS_RAW.value) == 0
    source.refresh_from_db()
    assert source.consecutive_errors == 1 and source.last_error.startswith("forbidden:")
    assert metric("tradebot_news_source_errors_total", source=source.name, kind="forbidden") >= 1


@pytest.mark.django_db
def test_a_configured_client_library_host_inside_is_refused(internal, settings):
    settings.NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    source = reddit_source(settings, internal.base_url)  # REDDIT_URL pointing inside
    outcome = source_poll(source_id=source.pk)
    assert outcome.error.startswith("forbidden: 127.0.0.2 resolves to 127.0.0.2 (loopback)")
    assert internal.requests == []


@pytest.mark.django_db
def test_a_client_library_connects_to_the_address_that_was_checked(standin, settings, monkeypatch):
    """As for RSS: one lookup, checked, and the socket goes to that address (no rebinding)."""
    body = json.dumps({"news": [], "next_page_token": None}).encode()
    standin.route("GET", "/v1beta1/news", lambda r: Response(200, body, _json()))
    port = standin.httpd.server_address[1]
    answers = iter(["127.0.0.1", "10.0.0.7"])  # a second lookup would get an internal address
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "news.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(news_http.socket, "getaddrinfo", rebinding)
    outcome = source_poll(source_id=alpaca_source(settings, f"http://news.test:{port}").pk)

    assert (outcome.outcome, outcome.fetched) == ("ok", 0)
    assert lookups == ["news.test"]
    assert standin.requests[-1].headers["host"] == f"news.test:{port}"


@pytest.mark.django_db
@pytest.mark.parametrize("server", ["slow_loris", "slow_lines"])
@pytest.mark.parametrize("kind", CLIENTS)
def test_client_library_against_dripped_headers_ends_at_the_deadline(
    kind, server, request, news_settings
):
    news_settings.NEWS_HTTP_TIMEOUT_S = 1.0  # each byte comes well within this
    news_settings.NEWS_FETCH_DEADLINE_S = 2.0
    url = request.getfixturevalue(server)
    source = CLIENTS[kind][0](news_settings, url.removesuffix("/feed"))
    before = timezone.now()

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error"
    assert outcome.error.startswith("timeout: the 2s deadline for the whole fetch passed")
    source.refresh_from_db()
    assert source.last_error == outcome.error and source.consecutive_errors == 1
    assert source.last_polled_at is not None
    assert source.last_polled_at >= before + timedelta(seconds=2.0)


@pytest.mark.django_db
def test_an_oversized_alpaca_news_body_is_cut_off(standin, news_settings):
    news_settings.NEWS_MAX_FEED_BYTES = 1024 * 1024
    sent: list[int] = []

    def endless(request):
        def chunks() -> Iterator[bytes]:
            yield b'{"news": ["'
            for n in range(1024):  # 64 MB if nobody stops reading
                sent.append(n)
                yield b"x" * 65536

        return Response(200, chunks(), {"Content-Type": "application/json"})

    standin.route("GET", "/v1beta1/news", endless)
    source = alpaca_source(news_settings, standin.base_url)

    outcome = source_poll(source_id=source.pk)

    assert outcome.error == "too_large: body passed the 1,048,576 byte cap; download cut off"
    assert len(sent) < 1024
    assert metric("tradebot_news_source_errors_total", source="alpaca", kind="too_large") == 1


@pytest.mark.django_db
def test_a_gzip_bomb_from_reddit_is_cut_off_while_inflating(standin, news_settings):
    news_settings.NEWS_MAX_FEED_BYTES = 1024 * 1024
    bomb = gzip.compress(b'{"kind": "Listing", "data": {"children": [' + b" " * (200 * 1024 * 1024))
    standin.route("POST", "/api/v1/access_token", lambda r: Response(200, TOKEN, _json()))
    standin.route(
        "GET",
        "/r/stocks/new",
        lambda r: Response(200, bomb, {**_json(), "Content-Encoding": "gzip"}),
    )
    source = reddit_source(news_settings, standin.base_url)

    outcome = source_poll(source_id=source.pk)

    assert outcome.error == "too_large: body inflates past the 1,048,576 byte cap; download cut off"
    assert [(r.method, r.path) for r in standin.requests] == [
        ("POST", "/api/v1/access_token"),
        ("GET", "/r/stocks/new"),
    ]
    # The token request went out with the only codings the layer inflates itself.
    assert standin.requests[0].headers["accept-encoding"] == "gzip, deflate"


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/access_token", "/r/stocks/new"])
def test_a_reddit_body_that_is_not_json_is_a_parse_error(path, standin, news_settings):
    standin.route("POST", "/api/v1/access_token", lambda r: Response(200, TOKEN, _json()))
    standin.route("GET", "/r/stocks/new", lambda r: Response(200, b"{}", _json()))
    method = "POST" if path.startswith("/api") else "GET"
    standin.route(method, path, lambda r: Response(200, b"<html>down</html>", _json()))
    outcome = source_poll(source_id=reddit_source(news_settings, standin.base_url).pk)
    assert outcome.error.startswith("parse: Reddit answered an unexpected body: ")
