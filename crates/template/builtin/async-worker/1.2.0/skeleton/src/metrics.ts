// The worker's Prometheus metrics (prom-client): messages by result, how old they were when
// settled (the freshness SLO), how long handling took, retries and whether Redis answers; plus
// Node.js runtime and process metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const messages = new Counter({
  name: "worker_messages_total",
  help: "Messages settled, by result (failure: dead-lettered).",
  labelNames: ["result"] as const,
  registers: [registry],
});
// Both results exist from the start, so a first failure is a rate, not a new series.
messages.inc({ result: "success" }, 0);
messages.inc({ result: "failure" }, 0);

// Message age buckets in seconds; slo.yaml's freshness SLO reads one of them.
export const age = new Histogram({
  name: "worker_message_age_seconds",
  help: "Time from being queued to being settled.",
  buckets: [1, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

export const duration = new Histogram({
  name: "worker_message_duration_seconds",
  help: "Time to handle a message, retries included.",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const retries = new Counter({
  name: "worker_message_retries_total",
  help: "Failed attempts that were retried.",
  registers: [registry],
});

export const connected = new Gauge({
  name: "worker_queue_connected",
  help: "Whether Redis answers (1) or not (0).",
  registers: [registry],
});
connected.set(0);

/** Records one settled message. */
export function observe(result: "success" | "failure", enqueuedAt: number | undefined, seconds: number): void {
  messages.inc({ result });
  duration.observe(seconds);
  if (enqueuedAt !== undefined && enqueuedAt > 0) {
    age.observe(Math.max(0, Date.now() / 1000 - enqueuedAt));
  }
}
