import { test } from "node:test";
import assert from "node:assert/strict";
import { baseUrlFromEnv, connectionOptions, Logger, redactUrl, wire } from "../dist/index.js";

test("the URL's user part is a token, apart from the URL; the inbox is the driver's", () => {
  const o = connectionOptions("compiler", { natsUrl: "nats://cvy_abc@127.0.0.1:4333" });
  assert.deepEqual([o.token, o.user, o.servers, o.inboxPrefix], ["cvy_abc", undefined, ["127.0.0.1:4333"], "_INBOX.compiler"]);
});

test("a user and password stay a user and password; CONVEYOR_TOKEN fills in when the URL has none", () => {
  assert.deepEqual(Object.values(pick(connectionOptions("d", { natsUrl: "nats://u:p%40ss@h:1" }))), ["u", "p@ss", undefined]);
  assert.equal(connectionOptions("d", { natsUrl: "nats://h:1", token: "t" }).token, "t");
  assert.equal(connectionOptions("d", { natsUrl: "nats://x@h:1", token: "t" }).token, "x");
  assert.deepEqual(connectionOptions("d", {}).servers, ["127.0.0.1:4222"]);
  assert.deepEqual(connectionOptions("d", { natsUrl: "tls://a:1" }).tls, {});
});

function pick(o) {
  return { user: o.user, pass: o.pass, token: o.token };
}

test("redactUrl hides the token", () => {
  assert.equal(redactUrl("nats://cvy_secret@h:4222"), "nats://xxxxx@h:4222");
});

test("idempotency keys: run.step.attempt for a step, the message id for a fan-out", () => {
  assert.equal(wire.idempotencyKey({ id: "x", run_id: "r", step: "s", attempt: 2 }), "r.s.2");
  assert.equal(wire.idempotencyKey({ id: "x", run_id: "r" }), "x");
});

test("mask replaces every granted value, the longest first", () => {
  const l = new Logger(undefined, { runId: "r", driver: "d", pipeline: "p" });
  l.addSecrets(["abc", "abcdef", ""]);
  assert.equal(l.mask("x abcdef y abc z"), "x *** y *** z");
});

test("baseUrlFromEnv reads host and port as the Go client does", () => {
  assert.equal(baseUrlFromEnv({}), "http://localhost:8080");
  assert.equal(baseUrlFromEnv({ CONVEYOR_SERVER_HOST: "https://ci.example/", CONVEYOR_SERVER_PORT: "443" }), "https://ci.example:443");
  assert.equal(baseUrlFromEnv({ CONVEYOR_SERVER_HOST: "h:9", CONVEYOR_SERVER_PORT: "1" }), "http://h:9");
});

test("inflight: a running key is known until it ends; a stored one is remembered; a stop aborts it", async () => {
  const { Inflight, WorkStoppedError } = await import("../dist/inflight.js");
  const f = new Inflight();
  const stops = [];
  const { running, end } = f.begin("r.s.1", (reason) => stops.push(reason));
  assert.equal(f.running.get("r.s.1"), running);
  assert.equal(f.stop("r.s.1", "the run was cancelled"), true);
  assert.deepEqual(stops, ["the run was cancelled"]);
  assert.ok(running.controller.signal.reason instanceof WorkStoppedError);
  assert.equal(f.stoppedReason("r.s.1"), "the run was cancelled");
  end(true);
  end(false); // settled once
  assert.equal(await running.settled, true);
  assert.equal(f.running.has("r.s.1"), false);
  assert.equal(f.wasStored("r.s.1"), true);
  assert.equal(f.stop("r.s.2", "gone"), false);
  assert.equal(f.stoppedReason("r.s.2"), "gone");
});
