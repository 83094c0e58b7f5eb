"""One trace from an article to its fill, through real Celery workers.

The article is ingested here (the news stage's own service), the sentiment, signals and execution
stages run in real worker processes that export their spans over OTLP/HTTP to a stand-in collector
(the real exporter, a local receiver that keeps what it is sent), and the fill is applied here by
the order sync. The spans of this process go to an in-memory exporter. Together they must form ONE
trace: news article -> consume news:raw (sentiment) -> consume news:scored (signals) -> consume
signals:generated (execution) -> order submit -> fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import wait_for
from tests.standins.otlp import OtlpStandIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]


@pytest.fixture
def collector() -> Iterator[OtlpStandIn]:
    with OtlpStandIn() as standin:
        yield standin


@pytest.fixture
def memory_spans() -> Iterator[InMemorySpanExporter]:
    """This process's spans, in memory (the global provider is set once per process)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def test_one_trace_from_article_to_fill(
    redis_conn, settings, tmp_path, celery_workers, collector, memory_spans
) -> None:
    from django.utils import timezone

    from apps.execution.models import Trade
    from apps.execution.services import broker_default, context_live, orders_sync
    from apps.news.models import NewsSource
    from apps.news.services import article_ingest
    from apps.news.sources.base import FetchedItem
    from apps.strategies.seed import strategies_seed
    from apps.strategies.tests.dbdata import bars_create

    settings.TRADING_SYMBOLS = ["AAPL"]
    strategies_seed()
    bars_create("AAPL", date(2017, 1, 3), date(2017, 6, 30))
    now = timezone.now()
    broker = broker_default()
    broker.on_bar("AAPL", time=now - timedelta(minutes=5), open=50, high=50, low=50, close=50)  # type: ignore[attr-defined]
    env = {
        "TRADING_SYMBOLS": "AAPL",
        "SENTIMENT_MODELS_DIR": str(tmp_path / "no-models"),  # the VADER tier: no model to load
        "FINBERT_MODEL": "",
        "OLLAMA_HOST": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    celery_workers(["sentiment"], {**env, "OTEL_SERVICE_NAME": "worker-sentiment"})
    celery_workers(["signals", "execution"], {**env, "OTEL_SERVICE_NAME": "worker-trading"})

    source, _ = NewsSource.objects.get_or_create(name="trace feed", kind=NewsSource.Kind.RSS)
    result = article_ingest(
        source=source,
        items=[
            FetchedItem(
                title="Apple soars: record profit beats estimates, strong growth, great outlook",
                url="https://example.com/trace/1",
                published_at=now - timedelta(minutes=30),
                tickers=("AAPL",),
            )
        ],
    )
    assert result.stored == 1
    [news] = [s for s in memory_spans.get_finished_spans() if s.name == "news article"]
    trace_id = news.context.trace_id

    trade = wait_for(
        lambda: Trade.objects.filter(ticker="AAPL", status=Trade.Status.ACCEPTED).first(), 120
    )
    assert isinstance(trade, Trade)
    # The next bar fills the order; the sync applies it (here, so its span lands in memory).
    broker.on_bar(  # type: ignore[attr-defined]
        "AAPL", time=now + timedelta(days=1), open=50, high=52, low=49, close=51
    )
    orders_sync(context_live(broker))
    trade.refresh_from_db()
    assert trade.status == Trade.Status.FILLED

    wanted = {
        "consume news:raw",
        "consume news:scored",
        "consume signals:generated",
        "order submit",
    }

    def worker_spans() -> list[dict[str, Any]]:
        with collector.lock:
            got = [s for s in collector.spans if s["trace_id"] == trace_id]
        return got if wanted <= {s["name"] for s in got} else []

    remote = wait_for(worker_spans, 60)
    assert isinstance(remote, list)
    local = [
        {
            "name": s.name,
            "trace_id": s.context.trace_id,
            "span_id": s.context.span_id,
            "parent_id": s.parent.span_id if s.parent else None,
            "service": "test",
        }
        for s in memory_spans.get_finished_spans()
        if s.context.trace_id == trace_id
    ]
    spans = remote + local
    by_name: dict[str, dict[str, Any]] = {}
    for s in spans:
        by_name.setdefault(s["name"], s)
    assert {"news article", "fill", *wanted} <= set(by_name), sorted(by_name)
    assert {s["trace_id"] for s in spans} == {trace_id}  # ONE trace

    def parent(name: str) -> str:
        pid = by_name[name]["parent_id"]
        return next(s["name"] for s in spans if s["span_id"] == pid)

    # Each stage's span is a child of the one before it.
    assert by_name["news article"]["parent_id"] is None
    assert parent("consume news:raw") == "news article"
    assert parent("consume news:scored") == "consume news:raw"
    assert parent("consume signals:generated") == "consume news:scored"
    assert parent("order submit") == "consume signals:generated"
    assert parent("fill") == "order submit"  # the fill continues its order's trace
    assert by_name["consume news:raw"]["service"] == "worker-sentiment"
    assert by_name["order submit"]["service"] == "worker-trading"
    assert trade.filled_qty > Decimal(0)
