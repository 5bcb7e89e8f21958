import Fastify, { type FastifyInstance, LogController } from "fastify";

import { registry } from "./metrics";
import { traceFields } from "./telemetry";

/** /healthz, /readyz (ready() decides) and /metrics; also the process's JSON logger. */
export function buildHealthServer(ready: () => boolean): FastifyInstance {
  const app = Fastify({
    logger: {
      messageKey: "msg",
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      mixin: () => traceFields(),
    },
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
  });
  app.get("/healthz", async () => "ok\n");
  app.get("/readyz", async (_request, reply) => {
    if (!ready()) return reply.code(503).send("not ready\n");
    return "ready\n";
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("Content-Type", registry.contentType);
    return registry.metrics();
  });
  return app;
}
