"""The OpenTelemetry trace context travels inside stream messages."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.bus import consumer, outbox
from apps.bus.names import Stream
from apps.bus.probe import Ping, PingStage1


@pytest.mark.django_db(transaction=True)
def test_consumer_span_continues_the_producer_trace(redis_conn, monkeypatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    monkeypatch.setattr(consumer, "tracer", tracer)

    with tracer.start_as_current_span("fetch news") as producer_span, transaction.atomic():
        outbox.publish(Stream.PING_1, Ping(sent_at=time.time()))
    producer_trace = producer_span.get_span_context().trace_id
    trace.set_tracer_provider  # noqa: B018 - (the global provider is left alone)

    assert PingStage1().consume() == 1
    spans = [s for s in exporter.get_finished_spans() if s.name == f"consume {Stream.PING_1}"]
    assert len(spans) == 1
    assert spans[0].context.trace_id == producer_trace
    assert spans[0].parent is not None
    assert spans[0].parent.span_id == producer_span.get_span_context().span_id
    assert spans[0].attributes["messaging.consumer.group.name"] == "probe-1"
