"""The worker's Prometheus metrics (prometheus-client): messages by result, how old they were
when settled (the freshness SLO), how long handling took, retries and whether Redis answers; plus
the process and Python runtime collectors."""

import time

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

registry = CollectorRegistry()
for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    registry.register(collector)

messages = Counter(
    "worker_messages",
    "Messages settled, by result (failure: dead-lettered).",
    ["result"],
    registry=registry,
)
# Both results exist from the start, so a first failure is a rate, not a new series.
messages.labels("success")
messages.labels("failure")

# Message age buckets in seconds; slo.yaml's freshness SLO reads one of them.
age = Histogram(
    "worker_message_age_seconds",
    "Time from being queued to being settled.",
    buckets=(1, 5, 10, 30, 60, 300, 900, 3600),
    registry=registry,
)
duration = Histogram(
    "worker_message_duration_seconds",
    "Time to handle a message, retries included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
retries = Counter("worker_message_retries", "Failed attempts that were retried.", registry=registry)
connected = Gauge(
    "worker_queue_connected", "Whether Redis answers (1) or not (0).", registry=registry
)


def observe(result: str, enqueued_at: float | None, seconds: float) -> None:
    """Records one settled message."""
    messages.labels(result).inc()
    duration.observe(seconds)
    if enqueued_at is not None and enqueued_at > 0:
        age.observe(max(0.0, time.time() - enqueued_at))
