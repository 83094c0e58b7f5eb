"""Ticker extraction from headlines and posts (pure; the listing ships in ``data/news/``).

Rules, strongest first:

1. Cashtags (``$AAPL``, ``$BRK.B``) and exchange-qualified symbols (``NYSE: GE``, ``(NASDAQ:AAPL)``)
   are taken whenever the symbol is listed.
2. Bare upper-case symbols (``AAPL``) are taken when listed, at least two letters long, not in the
   stop list (words such as A, IT, ALL, ON, ARE, CEO, USA that are also tickers), and only when the
   text is not written in capitals throughout (a shouted headline makes every word look like a ticker).
3. Company names: the curated aliases (``Apple``, ``Goldman Sachs``) and listed names of two words or
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

# Legal suffixes and filler dropped from listed company names before matching them in text.
NAME_NOISE = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "companies", "ltd", "limited",
        "plc", "llc", "lp", "l.p", "sa", "nv", "ag", "se", "holdings", "holding", "group", "the",
        "trust", "class", "cl", "a", "b", "de", "new", "adr", "ads", "com", "&", "and",
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

    @classmethod
    def from_rows(
        cls,
        *,
        listings: Iterable[tuple[str, str]],
        aliases: Iterable[tuple[str, str]] = (),
        stopwords: Iterable[str] = (),
    ) -> TickerExtractor:
        symbols: set[str] = set()
        names: dict[str, str] = {}
        for ticker, name in listings:
            ticker = ticker.upper()
            symbols.add(ticker)
            words = _listed_name_words(name)
            # One-word names ("Target", "Visa", "Ball") are ordinary words too: only aliases add them.
            if 2 <= len(words) <= MAX_NAME_WORDS:
                # First listing wins: the SEC map lists the primary share class first.
                names.setdefault(_name_key(words), ticker)
        for alias, ticker in aliases:
            ticker = ticker.upper()
            symbols.add(ticker)
            names[_name_key(alias.split())] = ticker
        return cls(frozenset(symbols), names, frozenset(w.upper() for w in stopwords))

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
        for match in EXCHANGE.finditer(text):
            if ticker := self._listed(match.group(1)):
                found.setdefault(ticker)
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


def _read_listings(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["ticker"], row["name"]) for row in csv.DictReader(fh)]


def _read_aliases(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["alias"], row["ticker"]) for row in csv.DictReader(fh)]


def _read_stopwords(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@cache
def default_extractor(data_dir: Path = DATA_DIR) -> TickerExtractor:
    """The extractor built from the listing, aliases and stop list shipped in ``data/news/``."""
    return TickerExtractor.from_rows(
        listings=_read_listings(data_dir / "listings.csv"),
        aliases=_read_aliases(data_dir / "aliases.csv"),
        stopwords=_read_stopwords(data_dir / "ticker_stopwords.txt"),
    )


def extract_tickers(text: str) -> tuple[str, ...]:
    """Tickers in ``text`` according to the shipped listing."""
    return default_extractor().extract(text)
