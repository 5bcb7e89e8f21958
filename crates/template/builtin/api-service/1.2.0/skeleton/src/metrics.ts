// Prometheus metrics with prom-client: requests by route pattern, method and status, latency
// histograms by route and method (the SLOs in slo.yaml read both), and Node.js runtime and
// process metrics (collectDefaultMetrics).
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const requests = new Counter({
  name: "http_requests_total",
  help: "Requests answered, by route pattern, method and status code.",
  labelNames: ["route", "method", "code"] as const,
  registers: [registry],
});

// Latency buckets in seconds (the Prometheus client defaults); slo.yaml's latency SLO reads one.
export const durations = new Histogram({
  name: "http_request_duration_seconds",
  help: "Time to answer a request, by route pattern and method.",
  labelNames: ["route", "method"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]);

/** The method label: bounded, anything unusual is "other". */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "other";
}
