"""Bounded, guarded HTTP GET for news sources: the one network path of RSS and X.

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
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import typing
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from apps.news.sources.base import (
    SourceBadEncoding,
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
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        # Every address the name has must be allowed: a name that also points inside is refused
        # (no rebinding between this check and the connect, which uses the checked address).
        for addr in addresses:
            problem = address_problem(ipaddress.ip_address(addr.split("%", 1)[0]), self.allowed)
            if problem:
                raise SourceForbiddenAddress(
                    f"{host} resolves to {addr} ({problem}); refused (NEWS_ALLOWED_NETWORKS "
                    "lists the internal networks a source may reach)"
                )
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
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise SourceTooLarge(
                    f"body of {int(declared):,} bytes declared, over the {limits.max_bytes:,} byte cap"
                )
            coding = _encoding(response.headers)
            inflater = _Inflater(coding, limits.max_bytes) if coding else None
            chunks: list[bytes] = []
            received = 0
            for raw in response.iter_raw():
                received += len(raw)
                if received > limits.max_bytes:
                    raise SourceTooLarge(
                        f"body passed the {limits.max_bytes:,} byte cap; download cut off"
                    )
                if inflater is None:
                    chunks.append(raw)
                else:
                    chunks.extend(inflater.feed(raw))
            if inflater is not None and not inflater._d.eof and received:
                raise SourceParseError(f"{coding} body ended before its end marker")
            return HttpBody(response.status_code, b"".join(chunks), response.headers)
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
