"""Prometheus metrics (prometheus-client): requests by route pattern, method and status, latency
histograms by route and method (the SLOs in slo.yaml read both), and the process and Python
runtime collectors."""

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)

registry = CollectorRegistry()
for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    registry.register(collector)

requests = Counter(
    "http_requests",
    "Requests answered, by route pattern, method and status code.",
    ["route", "method", "code"],
    registry=registry,
)

# Latency buckets in seconds (the Prometheus client defaults); slo.yaml's latency SLO reads one.
durations = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)

_KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}


def method_label(method: str) -> str:
    """The method label: bounded, anything unusual is "other"."""
    return method if method in _KNOWN_METHODS else "other"
