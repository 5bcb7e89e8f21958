import { trace } from "@opentelemetry/api";
import Fastify, { type FastifyInstance, LogController } from "fastify";

import { durations, methodLabel, registry, requests } from "./metrics";
import { routes } from "./routes";
import { traceFields } from "./telemetry";

export interface State {
  ready: boolean;
}

/** The application: health, readiness, metrics, the routes in routes.ts, and instrumentation. */
export function buildApp(state: State): FastifyInstance {
  const app = Fastify({
    // JSON lines (pino) with the request's trace id; requests are not logged one by one
    // (the metrics count them), failures are.
    logger: {
      messageKey: "msg",
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      mixin: () => traceFields(),
    },
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    connectionTimeout: 30_000,
  });

  app.addHook("onRequest", async (request) => {
    const route = request.routeOptions.url ?? "unmatched";
    const span = trace.getActiveSpan();
    span?.setAttribute("http.route", route);
    span?.updateName(`${methodLabel(request.method)} ${route}`);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const method = methodLabel(request.method);
    const seconds = reply.elapsedTime / 1000;
    requests.inc({ route, method, code: String(reply.statusCode) });
    durations.observe({ route, method }, seconds);
    if (reply.statusCode >= 500) {
      request.log.error({ method, route, status: reply.statusCode, seconds }, "request failed");
    }
  });

  app.get("/healthz", async () => "ok\n");
  app.get("/readyz", async (_request, reply) => {
    if (!state.ready) {
      return reply.code(503).send("shutting down\n");
    }
    return "ready\n";
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("Content-Type", registry.contentType);
    return registry.metrics();
  });
  routes(app);
  return app;
}
