"""Ticker extraction from headlines and posts (pure; the listing ships in ``data/news/``).

Rules, strongest first:

1. Cashtags (``$AAPL``, ``$BRK.B``) are taken when the symbol is listed; exchange-qualified symbols
   (``NYSE: GE``, ``(NASDAQ:CRSR)``) always, since the text itself says it is a symbol.
2. Bare upper-case symbols (``AAPL``) are taken when listed, at least two letters long, not in the
   stop list (words such as A, IT, ALL, ON, ARE, CEO, USA that are also tickers), and only when the
   text is not written in capitals throughout (a shouted headline makes every word look like a ticker).
3. SEC EDGAR filing titles: the CIK in ``APPLE INC (0000320193) (Filer)`` maps to its listed ticker.
4. Company names: the curated aliases (``Apple``, ``Goldman Sachs``) and listed names of two words or
   more after legal suffixes are dropped (``Advanced Micro Devices``), matched on capitalised words.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "news"

_SYMBOL = r"[A-Z]{1,5}(?:[.-][A-Z]{1,2})?"
CASHTAG = re.compile(rf"(?<![\w$])\$({_SYMBOL})(?![\w])", re.IGNORECASE)
EXCHANGE = re.compile(
    rf"\b(?:NYSE(?:\s?American|\s?Arca|\s?MKT)?|NASDAQ(?:GS|GM|CM)?|Nasdaq|AMEX|OTC(?:QX|QB)?|BATS)"
    rf"\s*:\s*({_SYMBOL})\b"
)
BARE = re.compile(rf"(?<![\w$.\-/])({_SYMBOL})(?![\w\-/]|\.[A-Za-z])")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'.\-]*")
# SEC EDGAR filing titles: "8-K - APPLE INC (0000320193) (Filer)".
EDGAR_CIK = re.compile(r"\((\d{10})\)\s*\((?:Filer|Subject|Reporting|Issuer|Filed by)\)")

# Legal suffixes and filler dropped from listed company names before matching them in text.
NAME_NOISE = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "companies",
        "ltd",
        "limited",
        "plc",
        "llc",
        "lp",
        "l.p",
        "sa",
        "nv",
        "ag",
        "se",
        "holdings",
        "holding",
        "group",
        "the",
        "trust",
        "class",
        "cl",
        "a",
        "b",
        "de",
        "new",
        "adr",
        "ads",
        "com",
        "&",
        "and",
    }
)
MAX_NAME_WORDS = 5


def _name_key(words: Iterable[str]) -> str:
    return " ".join(w.lower().strip(".,'") for w in words)


def _listed_name_words(name: str) -> list[str]:
    words = [w.strip(".,'\"()") for w in re.split(r"[\s,/]+", name)]
    return [w for w in words if w and w.lower().strip(".") not in NAME_NOISE]


@dataclass(frozen=True)
class TickerExtractor:
    """Finds listed tickers in text. Build one per process (see :func:`default_extractor`)."""

    symbols: frozenset[str]
    names: dict[str, str] = field(default_factory=dict)  # "goldman sachs" -> "GS"
    stopwords: frozenset[str] = frozenset()
    ciks: dict[int, str] = field(default_factory=dict)  # SEC CIK -> primary ticker

    @classmethod
    def from_rows(
        cls,
        *,
        listings: Iterable[tuple[str, str]],
        aliases: Iterable[tuple[str, str]] = (),
        stopwords: Iterable[str] = (),
        ciks: Iterable[tuple[int, str]] = (),
    ) -> TickerExtractor:
        symbols: set[str] = set()
        names: dict[str, str] = {}
        for raw_ticker, name in listings:
            ticker = raw_ticker.upper()
            symbols.add(ticker)
            words = _listed_name_words(name)
            # One-word names ("Target", "Visa", "Ball") are ordinary words too: only aliases add them.
            if 2 <= len(words) <= MAX_NAME_WORDS:
                # First listing wins: the SEC map lists the primary share class first.
                names.setdefault(_name_key(words), ticker)
        for alias, alias_ticker in aliases:
            symbols.add(alias_ticker.upper())
            names[_name_key(alias.split())] = alias_ticker.upper()
        primary: dict[int, str] = {}
        for cik, cik_ticker in ciks:
            # Several share classes per company: the shortest symbol is the common stock.
            current = primary.get(cik)
            if current is None or (len(cik_ticker), cik_ticker) < (len(current), current):
                primary[cik] = cik_ticker.upper()
        return cls(frozenset(symbols), names, frozenset(w.upper() for w in stopwords), primary)

    @staticmethod
    def _canonical(symbol: str) -> str:
        return symbol.upper().replace(".", "-")

    def _listed(self, symbol: str) -> str | None:
        for candidate in (symbol.upper(), self._canonical(symbol)):
            if candidate in self.symbols:
                return candidate
        return None

    def extract(self, text: str) -> tuple[str, ...]:
        """Tickers mentioned in ``text``, in order of first mention, without duplicates."""
        found: dict[str, None] = {}
        if not text:
            return ()
        for match in CASHTAG.finditer(text):
            if ticker := self._listed(match.group(1)):
                found.setdefault(ticker)
        for match in EDGAR_CIK.finditer(text):
            if ticker := self.ciks.get(int(match.group(1))):
                found.setdefault(ticker)
        for match in EXCHANGE.finditer(text):
            # "NASDAQ: CRSR" names a symbol explicitly: trusted even when newer than the listing.
            found.setdefault(self._listed(match.group(1)) or self._canonical(match.group(1)))
        words = WORD.findall(text)
        letters = [w for w in words if any(c.isalpha() for c in w) and len(w) > 1]
        shouting = bool(letters) and sum(w.isupper() for w in letters) * 2 > len(letters)
        if not shouting:
            for match in BARE.finditer(text):
                symbol = match.group(1)
                if len(symbol) < 2 or not symbol.isupper() or symbol in self.stopwords:
                    continue
                if ticker := self._listed(symbol):
                    found.setdefault(ticker)
        self._names(words, found)
        return tuple(found)

    def _names(self, words: list[str], found: dict[str, None]) -> None:
        i = 0
        while i < len(words):
            matched = 0
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                span = words[i : i + n]
                # Proper nouns only: "apple pie" is not Apple Inc.
                if not all(_proper(w, inner=0 < k < n - 1) for k, w in enumerate(span)):
                    continue
                key = _name_key(span)
                ticker = self.names.get(key) or self.names.get(key.removesuffix("'s"))
                if ticker:
                    found.setdefault(ticker)
                    matched = n
                    break
            i += matched or 1


CONNECTORS = frozenset({"of", "and", "&", "the", "de", "du", "la", "for"})


def _proper(word: str, *, inner: bool) -> bool:
    return word[0].isupper() or word[0].isdigit() or (inner and word.lower() in CONNECTORS)


def _read_listings(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_aliases(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["alias"], row["ticker"]) for row in csv.DictReader(fh)]


def _read_stopwords(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@cache
def default_extractor(data_dir: Path = DATA_DIR) -> TickerExtractor:
    """The extractor built from the listing, aliases and stop list shipped in ``data/news/``."""
    rows = _read_listings(data_dir / "listings.csv")
    return TickerExtractor.from_rows(
        listings=[(row["ticker"], row["name"]) for row in rows],
        ciks=[(int(row["cik"]), row["ticker"]) for row in rows if row.get("cik")],
        aliases=_read_aliases(data_dir / "aliases.csv"),
        stopwords=_read_stopwords(data_dir / "ticker_stopwords.txt"),
    )


def extract_tickers(text: str) -> tuple[str, ...]:
    """Tickers in ``text`` according to the shipped listing."""
    return default_extractor().extract(text)
