"""OpenTelemetry, set up once per process: traces (OTLP when configured) and metrics (Prometheus).

Traces go to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when it is set; otherwise spans are still created (so
trace ids propagate through the bus) but not exported. OTel metrics are read into the Prometheus
registry that ``/metrics`` serves.
"""

from __future__ import annotations

import logging
import os
import threading

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY, start_http_server

from apps.bus.metrics import register_collectors
from tradebot.supervision import register_restart_collector

log = logging.getLogger(__name__)
_lock = threading.Lock()
_done = False
_metrics_server_started = False


def setup(service: str = "tradebot") -> None:
    global _done
    with _lock:
        if _done:
            return
        _done = True
        resource = Resource.create({"service.name": service})
        provider = TracerProvider(resource=resource)
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415 - optional OpenTelemetry extra, skipped when absent
            from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415 - optional OpenTelemetry extra, skipped when absent

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            log.info("telemetry: exporting traces to %s", endpoint)
        else:
            log.info("telemetry: OTEL_EXPORTER_OTLP_ENDPOINT unset; traces are not exported")
        trace.set_tracer_provider(provider)
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: PLC0415 - optional OpenTelemetry extra, skipped when absent

            metrics.set_meter_provider(
                MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()])
            )
        except Exception as exc:  # noqa: BLE001 - metrics must never stop a process
            log.warning("telemetry: OTel metrics reader not installed: %s", exc)
        try:
            from opentelemetry.instrumentation.django import DjangoInstrumentor  # noqa: PLC0415 - optional OpenTelemetry extra, skipped when absent

            DjangoInstrumentor().instrument()
        except Exception as exc:  # noqa: BLE001
            log.warning("telemetry: django instrumentation skipped: %s", exc)
        try:
            from opentelemetry.instrumentation.celery import CeleryInstrumentor  # noqa: PLC0415 - optional OpenTelemetry extra, skipped when absent

            CeleryInstrumentor().instrument()
        except Exception as exc:  # noqa: BLE001
            log.warning("telemetry: celery instrumentation skipped: %s", exc)
        register_collectors()
        register_restart_collector()


def serve_worker_metrics() -> None:
    """Start a Prometheus HTTP server on METRICS_PORT in a worker process (0 disables)."""
    global _metrics_server_started
    port = int(os.environ.get("METRICS_PORT", "0") or 0)
    if port <= 0 or _metrics_server_started:
        return

    start_http_server(port, addr=os.environ.get("METRICS_ADDR", "127.0.0.1"), registry=REGISTRY)
    _metrics_server_started = True
    log.info("metrics: worker /metrics on port %d", port)
