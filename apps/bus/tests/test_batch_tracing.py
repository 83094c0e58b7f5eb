"""A batched stage (one transaction for many messages) keeps each message in its own trace."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.bus import consumer, outbox
from apps.bus.names import Stream
from apps.bus.probe import Ping, PingStage1


@pytest.mark.django_db(transaction=True)
def test_batch_fast_path_gives_each_message_a_child_span(redis_conn, monkeypatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    monkeypatch.setattr(consumer, "tracer", tracer)
    assert PingStage1.savepoint_per_message is False  # the batch fast path

    producers = []
    for i in range(3):
        with tracer.start_as_current_span(f"article {i}") as span, transaction.atomic():
            outbox.publish(Stream.PING_1, Ping(sent_at=time.time(), hops=2, note=str(i)))
        producers.append(span.get_span_context())
    assert PingStage1().consume() == 3

    spans = [s for s in exporter.get_finished_spans() if s.name == f"consume {Stream.PING_1}"]
    per_message = [s for s in spans if s.parent is not None]
    assert {s.parent.span_id for s in per_message} == {p.span_id for p in producers}
    assert {s.context.trace_id for s in per_message} == {p.trace_id for p in producers}
    # What the stage emitted continues each message's own trace, not the batch's.
    out = redis_conn.xrange(Stream.PING_2)
    traces = {json.loads(f[b"trace"])["traceparent"].split("-")[1] for _, f in out}
    assert traces == {f"{p.trace_id:032x}" for p in producers}
