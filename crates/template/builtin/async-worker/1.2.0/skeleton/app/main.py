"""{{ name }}: {{ description }}

It consumes JSON messages from the Redis list $QUEUE at least once (queue.py: a crash never loses
a message, a message that keeps failing goes to the dead-letter list $QUEUE:dead), and serves
/healthz, /readyz (200 only while Redis answers and the worker is not stopping) and /metrics on
$METRICS_PORT. The SLOs in slo.yaml read worker_messages_total and worker_message_age_seconds.
Traces go to an OTLP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (telemetry.py); logs are
JSON lines with the message's trace id.
"""

import asyncio
import logging
import os
from collections.abc import Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from . import metrics
from .process import process
from .queue import Consumer, consumer_id, redis_options
from .telemetry import SERVICE_NAME, setup_logging, setup_tracing, shutdown_tracing

log = logging.getLogger(SERVICE_NAME)


def health_app(ready: Callable[[], bool]) -> Starlette:
    """/healthz, /readyz (ready() decides) and /metrics."""

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if not ready():
            return PlainTextResponse("not ready\n", status_code=503)
        return PlainTextResponse("ready\n")

    async def prometheus(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
        ]
    )


class WorkerServer(uvicorn.Server):
    """The health server; on SIGTERM the consumer stops first (finishing the message in hand),
    then the server."""

    def __init__(self, config: uvicorn.Config, consumer: Consumer) -> None:
        super().__init__(config)
        self.consumer = consumer
        self.consumed: asyncio.Task[None] | None = None

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if not self.should_exit:
            log.info("serving health and metrics", extra={"addr": f"0.0.0.0:{self.config.port}"})
            self.consumed = asyncio.create_task(self.consumer.run())

    def handle_exit(self, sig: int, frame: object) -> None:
        if self.consumer.stopping:
            return super().handle_exit(sig, frame)  # type: ignore[arg-type]
        log.info("stopping: finishing the message in hand")
        self.consumer.stop()
        loop = asyncio.get_running_loop()
        loop.call_soon_threadsafe(lambda: loop.create_task(self._stop_after_consumer()))
        return None

    async def _stop_after_consumer(self) -> None:
        if self.consumed is not None:
            await self.consumed
        self.should_exit = True


def run() -> None:
    setup_logging()
    setup_tracing()
    port = int(os.environ.get("METRICS_PORT") or "{{ metrics_port }}")
    queue = os.environ.get("QUEUE") or "{{ queue or name ~ '-jobs' }}"
    consumer = Consumer(redis_options(os.environ), queue, consumer_id(), process)
    app = health_app(lambda: not consumer.stopping and consumer.ready)
    config = uvicorn.Config(
        app, host="0.0.0.0", port=port, access_log=False, log_config=None, server_header=False
    )
    server = WorkerServer(config, consumer)
    asyncio.run(server.serve())
    shutdown_tracing()
    log.info("stopped")
    if not server.started:
        raise SystemExit(1)
