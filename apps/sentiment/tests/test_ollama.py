"""Tier 2 through the real ``ollama`` client against a stand-in that answers as Ollama's HTTP API."""

from __future__ import annotations

import socket

import ollama
import pytest

from apps.sentiment.tiers.ollama import (
    CIRCUIT_OPEN,
    DOWN,
    ERROR,
    INVALID,
    OK,
    SCHEMA,
    TIMEOUT,
    OllamaTier,
    response_parse,
)


def test_structured_answer_is_used(ollama_standin):
    tier = OllamaTier(host=ollama_standin.url, model="llama3", timeout_s=5)
    result, outcome = tier.score("Apple and Microsoft beat estimates", tickers=["AAPL"])
    assert outcome == OK
    assert result is not None
    assert result.sentiment.score == pytest.approx(0.8)
    assert result.sentiment.confidence == pytest.approx(0.9)
    assert result.tickers == ("AAPL", "MSFT")  # "$msft" normalised, "not a ticker" dropped
    assert result.key_entities == ("Apple", "Microsoft")
    assert result.model_used == "ollama/llama3@latest"
    [req] = ollama_standin.requests
    assert req["path"] == "/api/chat"
    assert req["model"] == "llama3"
    assert req["format"] == SCHEMA  # structured output: the JSON schema itself
    assert req["stream"] is False
    assert "Tickers already found: AAPL" in req["messages"][-1]["content"]


def test_standin_speaks_generate_too(ollama_standin):
    """The stand-in's /api/generate answers in the shape the real client parses."""
    resp = ollama.Client(host=ollama_standin.url).generate(
        model="llama3", prompt="hi", format="json"
    )
    assert response_parse(resp.response or "")[0].score == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"score": 3, "confidence": 0.5, "tickers": [], "key_entities": []}, "out of range"),
        ({"score": "bullish", "confidence": 0.5}, "not a number"),
        ({"score": True, "confidence": 0.5}, "not a number"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_off_schema_answers_are_refused(ollama_standin, answer, why):
    ollama_standin.answer = answer
    tier = OllamaTier(host=ollama_standin.url, model="llama3", timeout_s=5)
    result, outcome = tier.score("x")
    assert (result, outcome) == (None, INVALID)
    with pytest.raises(ValueError, match=why):
        response_parse(__import__("json").dumps(answer))


def test_prose_instead_of_json_keeps_tier1(ollama_standin):
    ollama_standin.mode = "offschema"
    result, outcome = OllamaTier(host=ollama_standin.url, model="llama3").score("x")
    assert (result, outcome) == (None, INVALID)


def test_junk_body_keeps_tier1(ollama_standin):
    ollama_standin.mode = "junk"
    result, outcome = OllamaTier(host=ollama_standin.url, model="llama3").score("x")
    assert (result, outcome) == (None, INVALID)


def test_http_error_keeps_tier1_without_tripping(ollama_standin):
    ollama_standin.mode = "error"
    tier = OllamaTier(host=ollama_standin.url, model="nope")
    assert tier.score("x") == (None, ERROR)
    assert tier.available  # a model error is not an outage


def test_timeout_trips_the_breaker(ollama_standin):
    ollama_standin.mode, ollama_standin.delay = "slow", 2.0
    tier = OllamaTier(host=ollama_standin.url, model="llama3", timeout_s=0.3, cooldown_s=60)
    assert tier.score("x") == (None, TIMEOUT)
    assert tier.score("y") == (None, CIRCUIT_OPEN)  # no second wait on a slow server
    assert len(ollama_standin.requests) == 1


def test_down_server_trips_the_breaker_and_recovers(ollama_standin):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tier = OllamaTier(host=f"http://127.0.0.1:{port}", model="llama3", timeout_s=1, cooldown_s=0)
    assert tier.score("x") == (None, DOWN)
    tier.client = OllamaTier(host=ollama_standin.url, model="llama3").client  # back up
    result, outcome = tier.score("x")
    assert outcome == OK and result is not None
