// {{ name }}: {{ description }}
//
// Endpoints: /healthz (liveness), /readyz (readiness; 503 from the first SIGTERM on), /metrics
// (Prometheus) and the routes in routes.ts. Shutdown: on SIGTERM readiness turns false, the
// server keeps serving for SHUTDOWN_DELAY (default 5s, while endpoints and load balancers stop
// routing here), then stops accepting and waits up to SHUTDOWN_TIMEOUT (default 20s) for
// requests in flight. Kubernetes allows 30s before it kills the process.
import { shutdownTracing } from "./telemetry"; // first: it instruments node:http

import { buildApp, type State } from "./app";
import { parseDuration } from "./duration";

async function main(): Promise<void> {
  const port = Number(process.env.PORT || "{{ port }}");
  const delay = parseDuration("SHUTDOWN_DELAY", process.env.SHUTDOWN_DELAY, 5_000);
  const timeout = parseDuration("SHUTDOWN_TIMEOUT", process.env.SHUTDOWN_TIMEOUT, 20_000);
  const state: State = { ready: false };
  const app = buildApp(state);
  const address = await app.listen({ port, host: "::" });
  state.ready = true;
  app.log.info({ addr: address }, "listening");

  let draining = false;
  const drain = async (): Promise<void> => {
    if (draining) {
      process.exit(1); // a second signal ends the process at once
    }
    draining = true;
    state.ready = false;
    app.log.info({ delay_ms: delay, timeout_ms: timeout }, "draining: readiness is off");
    await new Promise((resolve) => setTimeout(resolve, delay));
    const force = setTimeout(() => {
      app.log.error({ timeout_ms: timeout }, "requests still in flight after the timeout");
      process.exit(1);
    }, timeout);
    await app.close();
    clearTimeout(force);
    await shutdownTracing();
    app.log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void drain());
  process.on("SIGINT", () => void drain());
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: "ERROR", msg: "exiting", err: String(err) }));
  process.exit(1);
});
