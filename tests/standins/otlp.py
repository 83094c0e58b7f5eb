"""A stand-in OpenTelemetry collector: receives OTLP/HTTP protobuf traces and keeps the spans.

Processes export to it with the real OTLP exporter (``OTEL_EXPORTER_OTLP_ENDPOINT`` set to
:attr:`OtlpStandIn.endpoint`). Used by ``tests/test_trace.py`` and ``bench/pipeline_bench.py``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class OtlpStandIn:
    """Receives ``POST /v1/traces`` (OTLP/HTTP protobuf) as a collector does; keeps the spans."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                """Quiet: the test asserts on the spans received."""

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with standin.lock:
                    for rs in request.resource_spans:
                        service = next(
                            (
                                a.value.string_value
                                for a in rs.resource.attributes
                                if a.key == "service.name"
                            ),
                            "",
                        )
                        for ss in rs.scope_spans:
                            for s in ss.spans:
                                standin.spans.append(
                                    {
                                        "name": s.name,
                                        "trace_id": int.from_bytes(s.trace_id, "big"),
                                        "span_id": int.from_bytes(s.span_id, "big"),
                                        "parent_id": int.from_bytes(s.parent_span_id, "big")
                                        if s.parent_span_id
                                        else None,
                                        "service": service,
                                        "start_ns": s.start_time_unix_nano,
                                        "end_ns": s.end_time_unix_nano,
                                    }
                                )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def __enter__(self) -> OtlpStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
