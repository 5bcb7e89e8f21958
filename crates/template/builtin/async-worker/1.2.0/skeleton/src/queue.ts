// At-least-once consumption of a Redis list.
//
// Producers LPUSH messages onto QUEUE. The worker moves each one atomically (BLMOVE) into its
// own processing list, QUEUE:processing:<consumer>, handles it, and only then removes it, so a
// crash never loses a message: on start the worker puts back what its previous run left, and
// every worker puts back the processing lists of consumers whose heartbeat key
// (QUEUE:consumer:<consumer>, refreshed every 10 s, expiring after 30 s) is gone. A message
// that fails processing 3 times, or cannot be decoded, moves to the dead-letter list QUEUE:dead
// as it was received (replay it with LMOVE QUEUE:dead QUEUE RIGHT LEFT).
import { hostname } from "node:os";

import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { FastifyBaseLogger } from "fastify";
import Redis, { type RedisOptions } from "ioredis";

import * as metrics from "./metrics";
import { SERVICE_NAME } from "./telemetry";

export const MAX_ATTEMPTS = 3;
const HEARTBEAT_TTL_SECONDS = 30;
const HEARTBEAT_EVERY_MS = 10_000;
const BLOCK_SECONDS = 2;
const RECONNECT_BACKOFF_MS = 2_000;

/** What producers push: JSON with the time it was queued (Unix seconds, for the freshness SLO),
 * an optional W3C traceparent continuing the producer's trace, and a payload. */
export interface Message {
  enqueued_at?: number;
  traceparent?: string;
  payload?: unknown;
}

/** Redis settings from REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS and
 * REDIS_CA_FILE (a PEM bundle to trust instead of the system's). */
export function redisOptions(env: NodeJS.ProcessEnv, readFile: (path: string) => string): RedisOptions {
  const host = env.REDIS_HOST || "127.0.0.1";
  const tls = (env.REDIS_TLS || "false").toLowerCase();
  if (!["true", "false", "1", "0", "yes", "no"].includes(tls)) {
    throw new Error(`REDIS_TLS=${JSON.stringify(env.REDIS_TLS)} is not true or false`);
  }
  if (env.REDIS_USERNAME && !env.REDIS_PASSWORD) {
    throw new Error("REDIS_USERNAME is set but REDIS_PASSWORD is not");
  }
  const options: RedisOptions = {
    host,
    port: Number(env.REDIS_PORT || "6379"),
    username: env.REDIS_USERNAME || undefined,
    password: env.REDIS_PASSWORD || undefined,
    connectTimeout: 5_000,
    commandTimeout: (BLOCK_SECONDS + 5) * 1000,
    // Commands fail at once while Redis is unreachable (the loop reports and retries);
    // nothing is queued in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => RECONNECT_BACKOFF_MS,
    lazyConnect: true,
  };
  if (["true", "1", "yes"].includes(tls)) {
    options.tls = { servername: host, ...(env.REDIS_CA_FILE ? { ca: readFile(env.REDIS_CA_FILE) } : {}) };
  }
  return options;
}

/** The error said the way an operator can act on it. */
export function explain(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (text.includes("NOAUTH")) return `the server needs a password: set REDIS_PASSWORD: ${text}`;
  if (text.includes("WRONGPASS") || text.includes("invalid password")) {
    return `authentication refused (check REDIS_USERNAME and REDIS_PASSWORD): ${text}`;
  }
  return text;
}

export function consumerId(): string {
  return `${hostname()}-${process.pid}`;
}

export type Handler = (message: Message) => Promise<void>;

export class Consumer {
  ready = false;
  private stopping = false;
  private redis: Redis | undefined;
  private lastBeat = 0;
  private readonly tracer = trace.getTracer(SERVICE_NAME);

  constructor(
    private readonly options: RedisOptions,
    private readonly queue: string,
    private readonly id: string,
    private readonly handle: Handler,
    private readonly log: FastifyBaseLogger,
    private readonly retryDelayMs = 1_000,
  ) {}

  private get processing(): string {
    return `${this.queue}:processing:${this.id}`;
  }
  private get dead(): string {
    return `${this.queue}:dead`;
  }
  private heartbeat(id: string): string {
    return `${this.queue}:consumer:${id}`;
  }

  /** Consumes until stop(); the message in hand is finished first. */
  async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.session();
      } catch (err) {
        this.setReady(false);
        if (this.stopping) break;
        this.log.error({ err: explain(err), retry_in: `${RECONNECT_BACKOFF_MS}ms` }, "queue unavailable; reconnecting");
        this.redis?.disconnect();
        this.redis = undefined;
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_BACKOFF_MS));
      }
    }
    this.redis?.disconnect();
  }

  stop(): void {
    this.stopping = true;
  }

  private setReady(up: boolean): void {
    this.ready = up;
    metrics.connected.set(up ? 1 : 0);
  }

  private async session(): Promise<void> {
    const redis = new Redis({ ...this.options, retryStrategy: () => null });
    // An error ioredis meets while connecting (a refused AUTH, NOAUTH) closes the connection;
    // keep it to report it instead of "Connection is closed".
    let connectError: unknown;
    redis.on("error", (err) => {
      connectError ??= err;
    });
    this.redis = redis;
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      throw connectError ?? err;
    }
    await this.beat(redis);
    this.setReady(true);
    this.log.info({ queue: this.queue, consumer: this.id }, "consuming");
    await this.requeue(redis, this.processing);
    await this.reap(redis);
    while (!this.stopping) {
      if (Date.now() - this.lastBeat >= HEARTBEAT_EVERY_MS) {
        await this.beat(redis);
        await this.reap(redis);
      }
      const raw = await redis.blmove(this.queue, this.processing, "RIGHT", "LEFT", BLOCK_SECONDS);
      if (raw === null) continue; // nothing queued
      await this.handleOne(redis, raw);
    }
  }

  private async beat(redis: Redis): Promise<void> {
    await redis.set(this.heartbeat(this.id), "1", "EX", HEARTBEAT_TTL_SECONDS);
    this.lastBeat = Date.now();
  }

  /** Moves everything in list back onto the queue, to be taken next. */
  private async requeue(redis: Redis, list: string): Promise<void> {
    let moved = 0;
    while ((await redis.lmove(list, this.queue, "LEFT", "RIGHT")) !== null) moved++;
    if (moved > 0) this.log.warn({ list, messages: moved }, "requeued messages left in flight");
  }

  /** Requeues the processing lists of consumers that stopped without finishing. */
  private async reap(redis: Redis): Promise<void> {
    const prefix = `${this.queue}:processing:`;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 100);
      for (const key of keys) {
        const owner = key.slice(prefix.length);
        if (owner !== this.id && (await redis.exists(this.heartbeat(owner))) === 0) {
          await this.requeue(redis, key);
        }
      }
      cursor = next;
    } while (cursor !== "0");
  }

  /** Processes one message and settles it: removed when done, dead-lettered when it cannot
   * be processed. Redis errors propagate (the message stays in the processing list). */
  private async handleOne(redis: Redis, raw: string): Promise<void> {
    const started = performance.now();
    let message: Message | undefined;
    let failure: string | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error("not a JSON object");
      }
      message = parsed;
    } catch (err) {
      failure = `undecodable message: ${err instanceof Error ? err.message : String(err)}`;
    }
    const parent = message?.traceparent
      ? propagation.extract(context.active(), { traceparent: message.traceparent })
      : context.active();
    await this.tracer.startActiveSpan(
      `process ${this.queue}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "redis",
          "messaging.destination.name": this.queue,
          "messaging.operation.type": "process",
        },
      },
      parent,
      async (span) => {
        let attempts = 0;
        while (message !== undefined && attempts < MAX_ATTEMPTS) {
          attempts++;
          try {
            await this.handle(message);
            failure = undefined;
            break;
          } catch (err) {
            failure = err instanceof Error ? err.message : String(err);
            this.log.warn({ ...traceFieldsOf(span), err: failure, attempt: attempts }, "message failed");
            if (attempts < MAX_ATTEMPTS) {
              metrics.retries.inc();
              await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * attempts));
            }
          }
        }
        try {
          if (failure !== undefined) {
            await redis.multi().lpush(this.dead, raw).lrem(this.processing, 1, raw).exec();
            span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
            this.log.error(
              { ...traceFieldsOf(span), err: failure, dead_letter_list: this.dead, attempts },
              "message dead-lettered",
            );
          } else {
            await redis.lrem(this.processing, 1, raw);
          }
          metrics.observe(failure === undefined ? "success" : "failure", message?.enqueued_at, (performance.now() - started) / 1000);
        } finally {
          span.end();
        }
      },
    );
  }
}

function traceFieldsOf(span: { spanContext(): { traceId: string; spanId: string } }): {
  trace_id: string;
  span_id: string;
} {
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
