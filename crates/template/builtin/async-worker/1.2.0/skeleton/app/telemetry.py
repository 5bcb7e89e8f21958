"""Tracing and logs.

Tracing uses the OpenTelemetry SDK, configured by the standard OTEL_* variables: one span per
message (queue.py), continuing the producer's trace when the message carries a traceparent.
Spans are always made (log lines carry their trace ids); they are exported over OTLP/HTTP only when
OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. Logs are JSON lines
(python-json-logger) with trace_id and span_id of the current span.
"""

import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

SERVICE_NAME = "{{ name }}"

_provider: TracerProvider | None = None


def setup_tracing(env: dict[str, str] | None = None) -> TracerProvider:
    """Installs the global tracer provider (once); exports only when an endpoint is set."""
    global _provider
    env = dict(os.environ if env is None else env)
    if _provider is not None:
        return _provider
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if endpoint and protocol == "grpc":
        raise ValueError(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: this service exports OTLP over HTTP "
            "(http/protobuf, port 4318)"
        )
    exporting = (
        bool(endpoint)
        and env.get("OTEL_SDK_DISABLED", "").lower() != "true"
        and env.get("OTEL_TRACES_EXPORTER") != "none"
    )
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    if exporting:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.shutdown()


class _TraceIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)  # uvicorn's coloured copy of msg
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


def setup_logging() -> logging.Logger:
    """JSON lines on stdout: time, level (upper case), msg, trace ids, extra fields."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceIds())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "message": "msg"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # uvicorn's own loggers go through the same handler; its access log is off (metrics count
    # requests, failures are logged by the middleware).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return logging.getLogger(SERVICE_NAME)
