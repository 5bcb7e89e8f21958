import assert from "node:assert/strict";
import { test } from "node:test";

import { registry } from "./metrics";
import { explain, redisOptions } from "./queue";

void test("Redis settings come from the environment", () => {
  const options = redisOptions(
    { REDIS_HOST: "cache.internal", REDIS_PORT: "6380", REDIS_PASSWORD: "s3cret", REDIS_TLS: "true", REDIS_CA_FILE: "/ca.pem" },
    () => "PEM",
  );
  assert.equal(options.host, "cache.internal");
  assert.equal(options.port, 6380);
  assert.equal(options.password, "s3cret");
  assert.deepEqual(options.tls, { servername: "cache.internal", ca: "PEM" });
  assert.throws(() => redisOptions({ REDIS_TLS: "maybe" }, () => ""), /REDIS_TLS="maybe" is not true or false/);
  assert.throws(() => redisOptions({ REDIS_USERNAME: "app" }, () => ""), /REDIS_PASSWORD is not/);
});

void test("authentication errors say what to set", () => {
  assert.match(explain(new Error("NOAUTH Authentication required.")), /set REDIS_PASSWORD/);
  assert.match(explain(new Error("WRONGPASS invalid username-password pair")), /authentication refused/);
});

void test("both results are counted from the start", async () => {
  const body = await registry.metrics();
  assert.ok(body.includes('worker_messages_total{result="failure"} 0'), body);
  assert.ok(body.includes("worker_queue_connected 0"), body);
  assert.ok(body.includes("nodejs_eventloop_lag_seconds"), body);
});
