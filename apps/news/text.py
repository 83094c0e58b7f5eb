"""Pure text helpers of the news stage: HTML-free titles, normalised URLs, content hashes.

No Django imports: the backtester and the sentiment stage use these too.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TITLE_MAX = 500
SUMMARY_MAX = 2000
URL_MAX = 1000

# Query parameters that only track the reader; two links differing in these are the same article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ncid",
        "yptr",
        ".tsrc",
        "soc_src",
        "soc_trk",
        "src",
        "source",
        "__source",
        "at_medium",
        "at_campaign",
        "taid",
        "siteid",
        "mod",
        "partner",
        "feedtype",
        "feedname",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "mkt_", "pk_", "hsa_")

_WS = re.compile(r"\s+")
# C0/C1 control characters other than whitespace: they break terminals, logs and JSON consumers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, dropping script/style bodies entirely."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in {"br", "p", "div", "li"}:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def clean_text(value: str | None, *, limit: int = SUMMARY_MAX) -> str:
    """Plain text from a feed field that may hold HTML, entities, control characters.

    Tags are removed (script/style bodies with them), entities decoded, whitespace collapsed and the
    result cut to ``limit`` characters. The output is plain text: whoever renders it still escapes it.
    """
    if not value:
        return ""
    text = value
    # Feeds double-escape: "&lt;b&gt;" arrives for "<b>". Unescape once so such tags are seen as tags.
    if "&lt;" in text or "&gt;" in text:
        text = html.unescape(text)
    if "<" in text or "&" in text:
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _WS.sub(" ", text).strip()
    # Anything still looking like markup after one round is dropped, never passed on.
    text = text.replace("<", "‹").replace(">", "›")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def normalise_url(url: str | None) -> str:
    """Canonical form of an article link for de-duplication ("" when there is none or it is unusable).

    Lower-cases scheme and host, drops ``www.``, default ports, fragments, tracking parameters
    (utm_*, fbclid, ...) and a trailing slash; sorts the remaining query parameters.
    """
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        return ""
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    result = urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))
    return result if len(result) <= URL_MAX else ""


def _hash_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", re.sub(r"[^\w\s$]", " ", text)).strip()


def content_hash(*, title: str, summary: str = "", published_at: datetime | None = None) -> str:
    """SHA-256 of the normalised title, summary and publication day.

    The same story syndicated by two feeds on the same day hashes equal; a recurring headline
    ("Stocks making the biggest moves premarket") on another day does not.
    """
    day = published_at.astimezone(UTC).strftime("%Y-%m-%d") if published_at else ""
    key = "\n".join((_hash_key(title), _hash_key(summary[:500]), day))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
