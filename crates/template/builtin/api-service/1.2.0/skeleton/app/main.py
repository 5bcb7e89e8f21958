"""{{ name }}: {{ description }}

Endpoints: /healthz (liveness), /readyz (readiness; 503 from the first SIGTERM on), /metrics
(Prometheus) and the routes in routes.py. Shutdown: on SIGTERM readiness turns false, the server
keeps serving for SHUTDOWN_DELAY (default 5s, while endpoints and load balancers stop routing
here), then stops accepting and waits up to SHUTDOWN_TIMEOUT (default 20s) for requests in
flight. Kubernetes allows 30s before it kills the process.
"""

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import metrics
from .routes import router
from .telemetry import SERVICE_NAME, setup_logging, setup_tracing, shutdown_tracing

log = logging.getLogger(SERVICE_NAME)


@dataclass
class State:
    ready: bool = False


def create_app(state: State) -> FastAPI:
    """The application: health, readiness, metrics, the routes in routes.py, instrumentation."""
    app = FastAPI(title=SERVICE_NAME, docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route_obj = request.scope.get("route")
            route = getattr(route_obj, "path", None) or "unmatched"
            method = metrics.method_label(request.method)
            seconds = time.perf_counter() - start
            metrics.requests.labels(route, method, str(status)).inc()
            metrics.durations.labels(route, method).observe(seconds)
            if status >= 500:
                log.error(
                    "request failed",
                    extra={"method": method, "route": route, "status": status, "seconds": seconds},
                )

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok\n"

    @app.get("/readyz", response_class=PlainTextResponse)
    async def readyz(response: Response) -> str:
        if not state.ready:
            response.status_code = 503
            return "shutting down\n"
        return "ready\n"

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    # Server spans named "METHOD /route", continuing an incoming traceparent; the span is
    # current inside the middleware above, so its log lines carry the trace id.
    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])
    return app


def parse_duration(name: str, value: str | None, default: float) -> float:
    """Seconds from "5s", "250ms", "1m" or a number of seconds."""
    if not value:
        return default
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", value.strip())
    if not match:
        raise ValueError(f"{name}={value!r} is not a duration (e.g. 5s or 500ms)")
    n, unit = float(match[1]), match[2] or "s"
    return n / 1000 if unit == "ms" else n * 60 if unit == "m" else n


class DrainingServer(uvicorn.Server):
    """uvicorn, but the first SIGTERM turns readiness off and waits SHUTDOWN_DELAY before
    uvicorn's graceful shutdown (stop accepting, wait for requests in flight); readiness turns
    on and "listening" is logged once the socket is bound."""

    def __init__(self, config: uvicorn.Config, state: State, delay: float) -> None:
        super().__init__(config)
        self.state = state
        self.delay = delay
        self.draining = False

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if not self.should_exit:
            self.state.ready = True
            log.info("listening", extra={"addr": f"0.0.0.0:{self.config.port}"})

    def handle_exit(self, sig: int, frame: object) -> None:
        if self.draining:
            return super().handle_exit(sig, frame)  # type: ignore[arg-type]
        self.draining = True
        self.state.ready = False
        log.info("draining: readiness is off", extra={"delay_s": self.delay})
        loop = asyncio.get_running_loop()
        loop.call_soon_threadsafe(loop.call_later, self.delay, setattr, self, "should_exit", True)
        return None


def run() -> None:
    setup_logging()
    setup_tracing()
    port = int(os.environ.get("PORT") or "{{ port }}")
    delay = parse_duration("SHUTDOWN_DELAY", os.environ.get("SHUTDOWN_DELAY"), 5.0)
    timeout = parse_duration("SHUTDOWN_TIMEOUT", os.environ.get("SHUTDOWN_TIMEOUT"), 20.0)
    state = State()
    config = uvicorn.Config(
        create_app(state),
        host="0.0.0.0",
        port=port,
        access_log=False,
        log_config=None,
        timeout_keep_alive=65,
        timeout_graceful_shutdown=max(1, round(timeout)),
        server_header=False,
    )
    server = DrainingServer(config, state, delay)
    asyncio.run(server.serve())
    shutdown_tracing()
    log.info("stopped")
    if not server.started:
        raise SystemExit(1)
