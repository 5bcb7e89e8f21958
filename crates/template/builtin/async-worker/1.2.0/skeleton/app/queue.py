"""At-least-once consumption of a Redis list.

Producers LPUSH messages onto QUEUE. The worker moves each one atomically (BLMOVE) into its own
processing list, QUEUE:processing:<consumer>, handles it, and only then removes it, so a crash
never loses a message: on start the worker puts back what its previous run left, and every
worker puts back the processing lists of consumers whose heartbeat key (QUEUE:consumer:<consumer>,
refreshed every 10 s, expiring after 30 s) is gone. A message that fails processing 3 times, or
cannot be decoded, moves to the dead-letter list QUEUE:dead as it was received (replay it with
LMOVE QUEUE:dead QUEUE RIGHT LEFT).
"""

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as aioredis
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from . import metrics
from .telemetry import SERVICE_NAME

MAX_ATTEMPTS = 3
HEARTBEAT_TTL_SECONDS = 30
HEARTBEAT_EVERY_SECONDS = 10
BLOCK_SECONDS = 2
RECONNECT_BACKOFF_SECONDS = 2

log = logging.getLogger(SERVICE_NAME)
Handler = Callable[[dict[str, Any]], Awaitable[None]]


def redis_options(env: Mapping[str, str]) -> dict[str, Any]:
    """Redis settings from REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS and
    REDIS_CA_FILE (a PEM bundle to trust instead of the system's)."""
    tls = (env.get("REDIS_TLS") or "false").lower()
    if tls not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"REDIS_TLS={env.get('REDIS_TLS')!r} is not true or false")
    if env.get("REDIS_USERNAME") and not env.get("REDIS_PASSWORD"):
        raise ValueError("REDIS_USERNAME is set but REDIS_PASSWORD is not")
    options: dict[str, Any] = {
        "host": env.get("REDIS_HOST") or "127.0.0.1",
        "port": int(env.get("REDIS_PORT") or "6379"),
        "username": env.get("REDIS_USERNAME") or None,
        "password": env.get("REDIS_PASSWORD") or None,
        "socket_connect_timeout": 5,
        "socket_timeout": BLOCK_SECONDS + 5,
        "decode_responses": True,
        # Fail at once: the consumer loop reports the error and reconnects.
        "retry": Retry(NoBackoff(), 0),
    }
    if tls in {"true", "1", "yes"}:
        options["ssl"] = True
        if env.get("REDIS_CA_FILE"):
            options["ssl_ca_certs"] = env["REDIS_CA_FILE"]
    return options


def explain(err: BaseException) -> str:
    """The error said the way an operator can act on it."""
    text = str(err) or type(err).__name__
    if "NOAUTH" in text or "Authentication required" in text or "already authenticated" in text:
        return f"the server needs a password: set REDIS_PASSWORD: {text}"
    if "WRONGPASS" in text or "invalid password" in text or "invalid username-password" in text:
        return f"authentication refused (check REDIS_USERNAME and REDIS_PASSWORD): {text}"
    return text


def consumer_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Consumer:
    def __init__(
        self,
        options: dict[str, Any],
        queue: str,
        consumer: str,
        handle: Handler,
        retry_delay: float = 1.0,
    ) -> None:
        self.options = options
        self.queue = queue
        self.id = consumer
        self.handle = handle
        self.retry_delay = retry_delay
        self.ready = False
        self.stopping = False
        self.tracer = trace.get_tracer(SERVICE_NAME)
        self.processing = f"{queue}:processing:{consumer}"
        self.dead = f"{queue}:dead"

    def heartbeat(self, consumer: str) -> str:
        return f"{self.queue}:consumer:{consumer}"

    def set_ready(self, up: bool) -> None:
        self.ready = up
        metrics.connected.set(1 if up else 0)

    async def run(self) -> None:
        """Consumes until stop(); the message in hand is finished first."""
        while not self.stopping:
            try:
                await self.session()
            except Exception as err:
                self.set_ready(False)
                if self.stopping:
                    break
                log.error(
                    "queue unavailable; reconnecting",
                    extra={"err": explain(err), "retry_in": f"{RECONNECT_BACKOFF_SECONDS}s"},
                )
                await asyncio.sleep(RECONNECT_BACKOFF_SECONDS)

    def stop(self) -> None:
        self.stopping = True

    async def session(self) -> None:
        client = aioredis.Redis(**self.options)
        try:
            await client.ping()
            await self.beat(client)
            self.set_ready(True)
            log.info("consuming", extra={"queue": self.queue, "consumer": self.id})
            await self.requeue(client, self.processing)
            await self.reap(client)
            last_beat = time.monotonic()
            while not self.stopping:
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY_SECONDS:
                    await self.beat(client)
                    await self.reap(client)
                    last_beat = time.monotonic()
                raw = await client.blmove(
                    self.queue, self.processing, BLOCK_SECONDS, "RIGHT", "LEFT"
                )
                if raw is None:
                    continue  # nothing queued
                await self.handle_one(client, raw)
        finally:
            await client.aclose()

    async def beat(self, client: aioredis.Redis) -> None:
        await client.set(self.heartbeat(self.id), "1", ex=HEARTBEAT_TTL_SECONDS)

    async def requeue(self, client: aioredis.Redis, source: str) -> None:
        """Moves everything in source back onto the queue, to be taken next."""
        moved = 0
        while await client.lmove(source, self.queue, "LEFT", "RIGHT") is not None:
            moved += 1
        if moved:
            log.warning(
                "requeued messages left in flight", extra={"list": source, "messages": moved}
            )

    async def reap(self, client: aioredis.Redis) -> None:
        """Requeues the processing lists of consumers that stopped without finishing."""
        prefix = f"{self.queue}:processing:"
        async for key in client.scan_iter(match=f"{prefix}*", count=100):
            owner = key[len(prefix) :]
            if owner != self.id and not await client.exists(self.heartbeat(owner)):
                await self.requeue(client, key)

    async def handle_one(self, client: aioredis.Redis, raw: str) -> None:
        """Processes one message and settles it: removed when done, dead-lettered when it cannot
        be processed. Redis errors propagate (the message stays in the processing list)."""
        started = time.perf_counter()
        message: dict[str, Any] | None = None
        failure: str | None = None
        try:
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                raise ValueError("not a JSON object")
            message = parsed
        except ValueError as err:
            failure = f"undecodable message: {err}"
        carrier = (
            {"traceparent": str(message["traceparent"])}
            if message and message.get("traceparent")
            else {}
        )
        with self.tracer.start_as_current_span(
            f"process {self.queue}",
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.destination.name": self.queue,
                "messaging.operation.type": "process",
            },
        ) as span:
            attempts = 0
            while message is not None and attempts < MAX_ATTEMPTS:
                attempts += 1
                try:
                    await self.handle(message)
                    failure = None
                    break
                except Exception as err:
                    failure = str(err) or type(err).__name__
                    log.warning("message failed", extra={"err": failure, "attempt": attempts})
                    if attempts < MAX_ATTEMPTS:
                        metrics.retries.inc()
                        await asyncio.sleep(self.retry_delay * attempts)
            if failure is not None:
                async with client.pipeline(transaction=True) as pipe:
                    pipe.lpush(self.dead, raw)
                    pipe.lrem(self.processing, 1, raw)
                    await pipe.execute()
                span.set_status(Status(StatusCode.ERROR, failure))
                log.error(
                    "message dead-lettered",
                    extra={"err": failure, "dead_letter_list": self.dead, "attempts": attempts},
                )
            else:
                await client.lrem(self.processing, 1, raw)
            enqueued_at = message.get("enqueued_at") if message else None
            metrics.observe(
                "success" if failure is None else "failure",
                float(enqueued_at) if isinstance(enqueued_at, int | float) else None,
                time.perf_counter() - started,
            )
