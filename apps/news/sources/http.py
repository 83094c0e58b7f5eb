"""Bounded, guarded HTTP for news sources: RSS and X fetch through :func:`bounded_get`; Reddit
(PRAW) and Alpaca News (alpaca-py) talk through a :func:`guarded_session` with the same limits.

What a hostile or broken server cannot do here:

* **reach inside** (server-side request forgery): only ``http``/``https``, on every redirect hop;
  every host is resolved and the connection goes to the address that was checked, never to a
  second lookup. Loopback, private, link-local (cloud metadata), multicast and reserved addresses
  are refused unless they are in ``NEWS_ALLOWED_NETWORKS`` (an intranet feed). No proxy from the
  environment is used (it would connect somewhere unchecked).
* **hold a poll**: one wall-clock deadline (``NEWS_FETCH_DEADLINE_S``) covers DNS, connect, TLS,
  the headers and the body; every socket read waits at most what is left of it, so a server that
  sends its headers one byte a second is cut off at the deadline like one that never answers.
* **blow up memory**: the body is read raw and inflated here, with both the compressed and the
  inflated size capped *while* inflating (``NEWS_MAX_FEED_BYTES``); stacked (``gzip, gzip``) or
  unknown content encodings are refused.

The client libraries (PRAW over prawcore, alpaca-py) speak ``requests``; :func:`guarded_session`
is a ``requests.Session`` whose urllib3 connections resolve, check and connect to the checked
address (so every redirect hop is checked), whose every request and the body it reads is bounded by
what is left of the poll's one deadline (a watchdog shuts the socket down when it passes, so a
server dripping its headers is cut off too), and whose bodies are read capped and inflated here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
import typing
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from django.conf import settings

from apps.news.sources.base import (
    SourceBadEncoding,
    SourceError,
    SourceForbiddenAddress,
    SourceHTTPError,
    SourceNetworkError,
    SourceParseError,
    SourceTimeout,
    SourceTooLarge,
)

ALLOWED_SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
# Content codings inflated here (anything else is refused; identity means none).
ENCODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class HttpLimits:
    timeout_s: float
    deadline_s: float
    max_bytes: int
    user_agent: str
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls) -> HttpLimits:
        return cls(
            timeout_s=settings.NEWS_HTTP_TIMEOUT_S,
            deadline_s=settings.NEWS_FETCH_DEADLINE_S,
            max_bytes=settings.NEWS_MAX_FEED_BYTES,
            user_agent=settings.NEWS_HTTP_USER_AGENT,
            allowed_networks=parse_networks(settings.NEWS_ALLOWED_NETWORKS),
        )


@dataclass(frozen=True, slots=True)
class HttpBody:
    status: int
    content: bytes
    headers: httpx.Headers


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` -> networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def address_problem(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed: tuple[Network, ...]
) -> str | None:
    """Why a source may not connect to ``address`` (``None``: it may)."""
    if any(address in net for net in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address_problem(address.ipv4_mapped, allowed)
    for label, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
        ("not globally routable", not address.is_global),
    ):
        if flag:
            return label
    return None


def checked_addresses(host: str, port: int, allowed: tuple[Network, ...]) -> list[str]:
    """Resolve ``host`` once; every address it has must be allowed (else
    :class:`SourceForbiddenAddress`). The caller connects to these addresses, never to the name:
    a name that also points inside is refused, and there is no second lookup to rebind."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for addr in addresses:
        problem = address_problem(ipaddress.ip_address(addr.split("%", 1)[0]), allowed)
        if problem:
            raise SourceForbiddenAddress(
                f"{host} resolves to {addr} ({problem}); refused (NEWS_ALLOWED_NETWORKS "
                "lists the internal networks a source may reach)"
            )
    return addresses


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every operation waits at most what is left of the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: GuardedBackend) -> None:
        self._inner, self._backend = inner, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.wait(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.wait(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._backend.wait(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner, self._backend)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the address check and the wall-clock deadline."""

    def __init__(self, *, deadline: float, allowed: tuple[Network, ...]) -> None:
        self.deadline, self.allowed = deadline, allowed
        self._sync = httpcore.SyncBackend()
        self.connected: list[str] = []  # the checked addresses connected to, in order

    def wait(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the fetch deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.wait(timeout, httpcore.ConnectTimeout)
        try:
            addresses = checked_addresses(host, port, self.allowed)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for addr in addresses:
            try:
                stream = self._sync.connect_tcp(
                    addr,
                    port,
                    timeout=self.wait(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.connected.append(addr)
            return _DeadlineStream(stream, self)
        raise last or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise SourceForbiddenAddress("unix sockets are not a news source")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=backend,
            max_connections=4,
        )


def _check_scheme(request: httpx.Request) -> None:
    if request.url.scheme not in ALLOWED_SCHEMES:
        raise SourceForbiddenAddress(
            f"{request.url.scheme}: URLs are refused (only http and https): {request.url}"
        )


def _encoding(headers: httpx.Headers) -> str | None:
    """The one content coding to undo (``None``: none); refuses stacked and unknown ones."""
    codings = [
        token.strip().lower()
        for value in headers.get_list("content-encoding")
        for token in value.split(",")
        if token.strip() and token.strip().lower() != "identity"
    ]
    if len(codings) > 1:
        raise SourceBadEncoding(f"stacked content encodings refused: {', '.join(codings)}")
    if not codings:
        return None
    if codings[0] not in ENCODINGS:
        raise SourceBadEncoding(f"unknown content encoding refused: {codings[0]}")
    return ENCODINGS[codings[0]]


class _Inflater:
    """gzip/deflate inflation that never produces more than ``cap`` bytes in total."""

    def __init__(self, coding: str, cap: int) -> None:
        self.coding, self.cap, self.produced = coding, cap, 0
        self._raw_fallback = coding == "deflate"  # servers send zlib-wrapped or raw deflate
        self._d = self._new()

    def _new(self) -> typing.Any:
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self.coding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._d.decompress(data, self.cap - self.produced + 1)
            except zlib.error as exc:
                if self._raw_fallback and self.produced == 0:
                    self._raw_fallback = False
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise SourceParseError(f"corrupt {self.coding} body: {exc}") from exc
            self._raw_fallback = False
            self.produced += len(out)
            if self.produced > self.cap:
                raise SourceTooLarge(
                    f"body inflates past the {self.cap:,} byte cap; download cut off"
                )
            yield out
            if self._d.unconsumed_tail:
                data = self._d.unconsumed_tail
            elif self._d.eof and self._d.unused_data:
                data = self._d.unused_data  # concatenated gzip members: same cap, go on
                self._d = self._new()
            else:
                data = b""


def capped_body(raw: Iterable[bytes], headers: httpx.Headers, max_bytes: int) -> bytes:
    """The body from its raw (still encoded) chunks, capped before and after inflating."""
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise SourceTooLarge(
            f"body of {int(declared):,} bytes declared, over the {max_bytes:,} byte cap"
        )
    coding = _encoding(headers)
    inflater = _Inflater(coding, max_bytes) if coding else None
    chunks: list[bytes] = []
    received = 0
    for chunk in raw:
        received += len(chunk)
        if received > max_bytes:
            raise SourceTooLarge(f"body passed the {max_bytes:,} byte cap; download cut off")
        if inflater is None:
            chunks.append(chunk)
        else:
            chunks.extend(inflater.feed(chunk))
    if inflater is not None and not inflater._d.eof and received:
        raise SourceParseError(f"{coding} body ended before its end marker")
    return b"".join(chunks)


def bounded_get(
    url: str,
    *,
    limits: HttpLimits,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> HttpBody:
    """GET ``url``; 304 comes back with an empty body. Raises typed ``SourceError``s."""
    request_headers = {
        "User-Agent": limits.user_agent,
        "Accept-Encoding": "gzip, deflate",
        **(headers or {}),
    }
    started = time.monotonic()
    backend = GuardedBackend(deadline=started + limits.deadline_s, allowed=limits.allowed_networks)
    if urlsplit(url).scheme not in ALLOWED_SCHEMES:
        raise SourceForbiddenAddress(f"only http and https URLs can be polled, not {url!r}")
    try:
        with (
            httpx.Client(
                transport=_GuardedTransport(backend),
                timeout=httpx.Timeout(limits.timeout_s),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                trust_env=False,
                event_hooks={"request": [_check_scheme]},
            ) as client,
            client.stream("GET", url, headers=request_headers, params=params) as response,
        ):
            if response.status_code == 304:
                return HttpBody(304, b"", response.headers)
            if response.status_code >= 400:
                raise SourceHTTPError(
                    f"HTTP {response.status_code} {response.reason_phrase} from {response.url}",
                    status=response.status_code,
                )
            body = capped_body(response.iter_raw(), response.headers, limits.max_bytes)
            return HttpBody(response.status_code, body, response.headers)
    except httpx.TimeoutException as exc:
        elapsed = time.monotonic() - started
        cause = (
            f"the {limits.deadline_s:g}s deadline for the whole fetch passed"
            if elapsed >= limits.deadline_s - 0.05
            else f"no data for {limits.timeout_s:g}s"
        )
        raise SourceTimeout(
            f"{type(exc).__name__} after {elapsed:.1f}s: {cause}, fetching {url}"
        ) from exc
    except httpx.TooManyRedirects as exc:
        raise SourceNetworkError(f"more than {MAX_REDIRECTS} redirects fetching {url}") from exc
    except httpx.HTTPError as exc:
        raise SourceNetworkError(f"{type(exc).__name__}: {exc} fetching {url}") from exc


# --- the same limits for client libraries over requests (PRAW, alpaca-py) ---------------------------


class PollGuard:
    """One poll's limits for a ``requests`` session: the deadline, the address policy, the cap."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.deadline_s
        self.cut_off = False
        self._lock = threading.Lock()
        self._connections: list[urllib3.connection.HTTPConnection] = []

    def left(self, url: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0 or self.cut_off:
            raise self.timeout(url)
        return left

    def timeout(self, url: str, cause: BaseException | None = None) -> SourceTimeout:
        how = f" ({type(cause).__name__})" if cause is not None else ""
        return SourceTimeout(
            f"the {self.limits.deadline_s:g}s deadline for the whole fetch passed{how}, "
            f"fetching {url}"
        )

    def track(self, connection: urllib3.connection.HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)

    def cut(self) -> None:
        """The deadline passed mid-request: shut the sockets down, so a blocked read returns."""
        self.cut_off = True
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            sock = connection.sock
            if sock is None:
                continue
            # The plain socket's shutdown (an SSLSocket's would drop its state first); a socket
            # the peer already closed raises OSError, and is as shut as we want it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _GuardedConnection(urllib3.connection.HTTPConnection):
    """A urllib3 connection that connects only to a checked address, within the deadline."""

    guard: typing.ClassVar[PollGuard]

    def _new_conn(self) -> socket.socket:
        guard = self.guard
        host = self._dns_host
        url = f"{host}:{self.port}"
        try:
            addresses = checked_addresses(host, self.port, guard.limits.allowed_networks)
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(self.host, self, exc) from exc
        timeout = self.timeout if isinstance(self.timeout, int | float) else None
        last: Exception | None = None
        for addr in addresses:
            left = guard.left(url)
            try:
                sock = socket.create_connection(
                    (addr, self.port),
                    timeout=left if timeout is None else min(timeout, left),
                    source_address=self.source_address,
                )
            except TimeoutError as exc:
                last = urllib3.exceptions.ConnectTimeoutError(self, f"connect to {addr}: {exc}")
                continue
            except OSError as exc:
                last = urllib3.exceptions.NewConnectionError(self, f"connect to {addr}: {exc}")
                continue
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            guard.track(self)
            return sock
        raise last or urllib3.exceptions.NewConnectionError(self, f"{host} has no address")


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    """Every request (every redirect hop) within the deadline, its body read capped."""

    def __init__(self, guard: PollGuard) -> None:
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        guard = self.guard
        http = type("GuardedHTTP", (_GuardedConnection,), {"guard": guard})
        https = type(
            "GuardedHTTPS",
            (_GuardedConnection, urllib3.connection.HTTPSConnection),
            {"guard": guard},
        )
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type(
                "GuardedHTTPSPool", (urllib3.HTTPSConnectionPool,), {"ConnectionCls": https}
            ),
        }

    def send(  # noqa: PLR0917 (requests' signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: typing.Any = None,
        verify: bool | str = True,
        cert: typing.Any = None,
        proxies: typing.Any = None,
    ) -> requests.Response:
        url = request.url or ""
        scheme = urlsplit(url).scheme
        if scheme not in ALLOWED_SCHEMES:
            raise SourceForbiddenAddress(f"{scheme}: URLs are refused (only http and https): {url}")
        guard = self.guard
        left = guard.left(url)
        watchdog = threading.Timer(left, guard.cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = super().send(
                request,
                stream=True,
                timeout=_bounded(timeout, guard.limits.timeout_s, left),
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            try:
                headers = httpx.Headers(
                    {k: v for k, v in response.headers.items() if k.lower() in _BODY_HEADERS}
                )
                body = capped_body(
                    response.raw.stream(64 * 1024, decode_content=False),
                    headers,
                    guard.limits.max_bytes,
                )
            except BaseException:
                response.close()  # drops the connection: the rest of the body is not wanted
                raise
            if guard.cut_off:  # a read cut short by the watchdog can look like a clean end
                response.close()
                raise guard.timeout(url)
            response.raw.release_conn()
            if response.is_redirect:
                _check_redirect(url, response.headers["location"], guard)
        except SourceError:
            raise
        except Exception as exc:
            if guard.cut_off or time.monotonic() >= guard.deadline:
                raise guard.timeout(url, exc) from exc
            raise
        finally:
            watchdog.cancel()
        response._content = body
        response._content_consumed = True
        return response


_BODY_HEADERS = ("content-length", "content-encoding")


def _check_redirect(url: str, location: str, guard: PollGuard) -> None:
    """A redirect to a scheme or an address a source may not reach is refused where it is
    received, whether or not the library follows it (alpaca-py and prawcore's API calls do not;
    requests does for PRAW's token request). A hop that is followed is checked again on connect."""
    target = urljoin(url, location)
    parts = urlsplit(target)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise SourceForbiddenAddress(
            f"{parts.scheme}: URLs are refused (only http and https): redirect to {target}"
        )
    if not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        checked_addresses(parts.hostname, port, guard.limits.allowed_networks)
    except OSError:
        return  # not resolvable: following it fails on its own


def _bounded(timeout: typing.Any, default: float, left: float) -> typing.Any:
    """A ``requests`` timeout (``None``, seconds or ``(connect, read)``) bounded by ``left``."""
    if isinstance(timeout, tuple):
        return tuple(min(default if t is None else t, left) for t in timeout)
    if isinstance(timeout, int | float):
        return min(timeout, left)
    return min(default, left)


def guarded_session(limits: HttpLimits | None = None) -> requests.Session:
    """A ``requests.Session`` for one poll through a client library, under the news limits.

    Its deadline starts now. Redirects are followed as the library asks, each hop checked; no
    proxy or credentials from the environment; ``Accept-Encoding`` only what is inflated here.
    """
    guard = PollGuard(limits or HttpLimits.from_settings())
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    session.headers["Accept-Encoding"] = "gzip, deflate"
    session.headers["User-Agent"] = guard.limits.user_agent
    adapter = _GuardedAdapter(guard)
    session.adapters.clear()
    session.mount("", adapter)  # every scheme comes here, to be refused unless http(s)
    return session
