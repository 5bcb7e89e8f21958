// {{ name }}: {{ description }}
//
// It consumes JSON messages from the Redis list $QUEUE at least once (queue.ts: a crash never
// loses a message, a message that keeps failing goes to the dead-letter list $QUEUE:dead), and
// serves /healthz, /readyz (200 only while Redis answers and the worker is not stopping) and
// /metrics on $METRICS_PORT. The SLOs in slo.yaml read worker_messages_total and
// worker_message_age_seconds. Traces go to an OTLP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is
// set (telemetry.ts); logs are JSON lines with the message's trace id.
import { shutdownTracing } from "./telemetry"; // first: it sets up the tracer provider

import { readFileSync } from "node:fs";

import { buildHealthServer } from "./health";
import { processMessage } from "./process";
import { Consumer, consumerId, redisOptions } from "./queue";

async function main(): Promise<void> {
  const port = Number(process.env.METRICS_PORT || "{{ metrics_port }}");
  const queue = process.env.QUEUE || "{{ queue or name ~ '-jobs' }}";
  const state = { stopping: false, consumer: undefined as Consumer | undefined };
  const app = buildHealthServer(() => !state.stopping && state.consumer?.ready === true);
  const options = redisOptions(process.env, (path) => readFileSync(path, "utf8"));
  const address = await app.listen({ port, host: "::" });
  app.log.info({ addr: address }, "serving health and metrics");
  const consumer = new Consumer(options, queue, consumerId(), processMessage, app.log);
  state.consumer = consumer;
  const consumed = consumer.run();

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) process.exit(1); // a second signal ends the process at once
    stopping = true;
    state.stopping = true;
    app.log.info("stopping: finishing the message in hand");
    consumer.stop();
    await consumed;
    await app.close();
    await shutdownTracing();
    app.log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: "ERROR", msg: "exiting", err: String(err) }));
  process.exit(1);
});
