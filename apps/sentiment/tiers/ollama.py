"""Tier 2: a local LLM through Ollama, for items tier 1 is unsure about.

The model is asked for structured JSON (``format=`` a JSON schema: score, confidence, tickers,
key_entities). Every failure -- Ollama down, too slow, an HTTP error, junk instead of the schema --
returns ``None`` with an outcome, so the caller keeps the tier-1 result. After a connection failure or
a timeout the tier stays off for ``cooldown_s`` (a circuit breaker), so a dead Ollama costs one timeout,
not one per article.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from apps.sentiment.scoring import SentimentScore, model_used, score_from_value

log = logging.getLogger(__name__)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": -1, "maximum": 1},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "tickers": {"type": "array", "items": {"type": "string"}},
        "key_entities": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["score", "confidence", "tickers", "key_entities"],
}

SYSTEM_PROMPT = (
    "You are a financial news sentiment analyst. For the news item given, answer only with JSON: "
    "score = expected effect on the named companies' stock price, from -1 (very negative) through 0 "
    "(neutral or no effect) to 1 (very positive); confidence from 0 to 1; tickers = the US stock "
    "symbols the item is about; key_entities = companies, people or products it names."
)

_TICKER = re.compile(r"^[A-Z]{1,5}(?:[.-][A-Z]{1,2})?$")

# Outcomes, also the values of the tier-2 outcome metric's label.
OK, DOWN, TIMEOUT, ERROR, INVALID, CIRCUIT_OPEN = (
    "ok",
    "down",
    "timeout",
    "error",
    "invalid",
    "circuit_open",
)


@dataclass(frozen=True, slots=True)
class Tier2Result:
    sentiment: SentimentScore
    tickers: tuple[str, ...]
    key_entities: tuple[str, ...]
    model_used: str


def response_parse(content: str) -> tuple[SentimentScore, tuple[str, ...], tuple[str, ...]]:
    """Validate the model's JSON answer; raises ``ValueError`` on anything off-schema."""
    data = json.loads(content)
    if not isinstance(data, dict):
        raise ValueError("answer is not a JSON object")
    score, confidence = data.get("score"), data.get("confidence")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise ValueError(f"score is not a number: {score!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError(f"confidence is not a number: {confidence!r}")
    if not (-1.0 <= score <= 1.0 and 0.0 <= confidence <= 1.0):
        raise ValueError(f"score/confidence out of range: {score}, {confidence}")
    tickers = tuple(
        t.strip().lstrip("$").upper()
        for t in data.get("tickers") or []
        if isinstance(t, str) and _TICKER.match(t.strip().lstrip("$").upper())
    )
    entities = tuple(str(e)[:100] for e in data.get("key_entities") or [] if isinstance(e, str))
    return score_from_value(float(score), float(confidence)), tickers, entities


class OllamaTier:
    """Scores one item at a time through the ``ollama`` client (``POST /api/chat``)."""

    def __init__(
        self, *, host: str, model: str, timeout_s: float = 10.0, cooldown_s: float = 60.0
    ) -> None:
        import ollama  # noqa: PLC0415 - optional tier-2 client, only when configured

        self.host, self.model = host, model
        self.client = ollama.Client(host=host, timeout=timeout_s)
        self.cooldown_s = cooldown_s
        self._open_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def _trip(self) -> None:
        self._open_until = time.monotonic() + self.cooldown_s

    def score(self, text: str, *, tickers: Sequence[str] = ()) -> tuple[Tier2Result | None, str]:
        """(result, outcome); ``result`` is None unless ``outcome == "ok"``."""
        import ollama  # noqa: PLC0415 - optional tier-2 client, only when configured

        if not self.available:
            return None, CIRCUIT_OPEN
        hint = f"\nTickers already found: {', '.join(tickers)}" if tickers else ""
        try:
            resp = self.client.chat(
                model=self.model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": f"News item: {text}{hint}"},
                ],
                format=SCHEMA,
                options={"temperature": 0},
                stream=False,
            )
        except (ConnectionError, httpx.ConnectError, httpx.RemoteProtocolError) as exc:
            self._trip()
            log.warning(
                "sentiment: Ollama at %s is down (%s); keeping tier-1 scores for %.0fs",
                self.host,
                exc,
                self.cooldown_s,
            )
            return None, DOWN
        except httpx.TimeoutException:
            self._trip()
            log.warning(
                "sentiment: Ollama at %s timed out; keeping tier-1 scores for %.0fs",
                self.host,
                self.cooldown_s,
            )
            return None, TIMEOUT
        except ollama.ResponseError as exc:
            log.warning("sentiment: Ollama error (%s): %s; keeping tier-1", exc.status_code, exc)
            return None, ERROR
        except (ValueError, TypeError) as exc:  # junk body: not JSON, or not a chat response
            log.warning("sentiment: Ollama answered junk (%s); keeping tier-1", exc)
            return None, INVALID
        try:
            sentiment, found, entities = response_parse(resp.message.content or "")
        except ValueError as exc:
            log.warning("sentiment: Ollama answer off-schema (%s); keeping tier-1", exc)
            return None, INVALID
        name, _, tag = (resp.model or self.model).partition(":")
        return (
            Tier2Result(
                sentiment=sentiment,
                tickers=found,
                key_entities=entities,
                model_used=model_used(f"ollama/{name}", tag or "latest"),
            ),
            OK,
        )
