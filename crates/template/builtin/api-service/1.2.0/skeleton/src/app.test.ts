import assert from "node:assert/strict";
import { test } from "node:test";

import { buildApp } from "./app";
import { parseDuration } from "./duration";
import { registry } from "./metrics";

void test("every route is counted by pattern and method", async () => {
  const app = buildApp({ ready: true });
  app.get("/items/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    if (id === "broken") return reply.code(500).send("broken");
    return reply.code(204).send();
  });
  for (const url of ["/", "/items/1", "/items/2", "/items/broken", "/no/such/path"]) {
    await app.inject({ method: "GET", url });
  }
  const body = await registry.metrics();
  for (const want of [
    'http_requests_total{route="/",method="GET",code="200"} 1',
    'http_requests_total{route="/items/:id",method="GET",code="204"} 2',
    'http_requests_total{route="/items/:id",method="GET",code="500"} 1',
    'http_requests_total{route="unmatched",method="GET",code="404"} 1',
    'http_request_duration_seconds_count{route="/items/:id",method="GET"} 3',
    "process_cpu_user_seconds_total",
    "nodejs_eventloop_lag_seconds",
  ]) {
    assert.ok(body.includes(want), `metrics lack ${want}:\n${body}`);
  }
  await app.close();
});

void test("readiness follows the state", async () => {
  const state = { ready: true };
  const app = buildApp(state);
  assert.equal((await app.inject({ url: "/readyz" })).statusCode, 200);
  state.ready = false;
  assert.equal((await app.inject({ url: "/readyz" })).statusCode, 503);
  assert.equal((await app.inject({ url: "/healthz" })).statusCode, 200);
  await app.close();
});

void test("durations", () => {
  assert.equal(parseDuration("X", undefined, 5000), 5000);
  assert.equal(parseDuration("X", "250ms", 0), 250);
  assert.equal(parseDuration("X", "2", 0), 2000);
  assert.throws(() => parseDuration("X", "soon", 0), /X="soon" is not a duration/);
});
