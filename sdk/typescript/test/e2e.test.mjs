// The TypeScript driver against a real server: `conveyor server` from
// CONVEYOR_BIN on free ports, drivers as child processes with their own
// credentials, everything else through the typed REST client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "../dist/index.js";
import { bin, start, startServer, stop, stopAll, until } from "./harness.mjs";

const fixture = fileURLToPath(new URL("./fixtures/driver.mjs", import.meta.url));
let server, api;

before(async () => {
  server = await startServer();
  api = createClient({ baseUrl: server.api, token: server.token });
  const { error } = await api.POST("/resource-definitions", { body: { name: "tsjob", version: "1.0.0", schema: { type: "object" } } });
  assert.equal(error, undefined, JSON.stringify(error));
});

after(async () => {
  await stopAll();
  await server?.close();
});

/** tsDriver starts the fixture driver as NAME with its own credentials. */
async function tsDriver(name, env = {}) {
  const url = await credentials(name);
  return start(process.execPath, [fixture], { CONVEYOR_NATS_URL: url, TS_DRIVER_NAME: name, ...env });
}

const issued = new Map();
async function credentials(name) {
  if (!issued.has(name)) issued.set(name, await server.cli("drivers", "credentials", name));
  return issued.get(name);
}

/** runPipeline creates the pipeline and a resource of it, and returns the run's id. */
async function runPipeline(name, steps) {
  let r = await api.POST("/pipelines", { body: { name, resource: "tsjob", steps } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  r = await api.POST("/resources", { body: { name: `${name}-1`, resource: "tsjob", pipeline: name, spec: {} } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  return r.data.runid;
}

async function getRun(id) {
  const { data, error } = await api.GET("/runs/{id}", { params: { path: { id } } });
  assert.equal(error, undefined, JSON.stringify(error));
  return data;
}

/** runEnds waits for the run to have status want. */
async function runEnds(id, want, ms = 40_000) {
  let last;
  try {
    return await until(`run ${id} ${want}`, async () => {
      last = await getRun(id);
      return last.status === want ? last : undefined;
    }, ms);
  } catch (err) {
    throw new Error(`${err.message}; the run: ${JSON.stringify(last)}`);
  }
}

async function logs(id) {
  const { data, error } = await api.GET("/runs/{id}/logs", { params: { path: { id }, query: { limit: 1000 } } });
  assert.equal(error, undefined, JSON.stringify(error));
  return data.items ?? [];
}

const step = (run, id) => run.steps.find((s) => s.id === id);

test("a two-step pipeline: a Go driver, then the TypeScript driver with its result", async () => {
  const exec = start(bin, ["driver", "exec", "--resources", "tsjob", "--workspace-root", join(server.dir, "ws")],
    { CONVEYOR_NATS_URL: await credentials("exec") });
  const ts = await tsDriver("ts-ok");
  const id = await runPipeline("two-steps", [
    { id: "build", driver: "exec", with: { run: 'echo building; echo "artifact=app-1.tgz" >> "$CONVEYOR_OUTPUT"' } },
    { id: "ship", driver: "ts-ok", needs: ["build"], with: { mode: "ok", input: "${{ results.build.data.artifact }}" } },
  ]);
  const run = await runEnds(id, "succeeded");
  assert.equal(step(run, "build").status, "succeeded");
  assert.deepEqual(step(run, "ship").result, { success: true, message: "ts got app-1.tgz", data: { echo: "app-1.tgz" }, driver: "ts-ok" });
  const line = await until("the TS driver's log line", async () => (await logs(id)).find((l) => l.driver === "ts-ok"));
  assert.equal(line.message, "got app-1.tgz at attempt 1");
  assert.equal(line.step, "ship");
  assert.equal(line.attempt, 1);
  const { data: drivers } = await api.GET("/drivers/{name}", { params: { path: { name: "ts-ok" } } });
  assert.ok(JSON.stringify(drivers).includes("ts-0.1.0"), `presence not announced: ${JSON.stringify(drivers)}`);
  await Promise.all([stop(exec), stop(ts)]);
  assert.match(ts.out, /driver stopped/);
});

test("a thrown error fails the step and the run with its message", async () => {
  const ts = await tsDriver("ts-fail");
  const id = await runPipeline("failing", [{ id: "only", driver: "ts-fail", with: { mode: "fail", message: "boom: the disk is full" } }]);
  const run = await runEnds(id, "failed");
  assert.equal(step(run, "only").status, "failed");
  assert.equal(step(run, "only").result.message, "boom: the disk is full");
  assert.match(run.message ?? "", /boom: the disk is full/);
  await stop(ts);
});

test("a cancelled run aborts the reconcile's signal", async () => {
  const ts = await tsDriver("ts-wait");
  const id = await runPipeline("cancelled", [{ id: "wait", driver: "ts-wait", with: { mode: "wait" } }]);
  await until("the step to start", () => (ts.out.includes(`started ${id}.wait.1`) ? true : undefined));
  const { error } = await api.POST("/runs/{id}/cancel", { params: { path: { id } } });
  assert.equal(error, undefined, JSON.stringify(error));
  await until("the signal to abort", () => (ts.out.includes(`aborted ${id}.wait.1: the server stopped this work`) ? true : undefined));
  await runEnds(id, "cancelled");
  // The driver flushes the step's lines before it publishes the result.
  await until("the result of the stopped step", () => (ts.err.includes(`run=${id} step=wait attempt=1: work done`) ? true : undefined));
  const lines = await until("the stop line", async () => {
    const ls = await logs(id);
    return ls.some((l) => l.message.startsWith("stopped: ")) ? ls : undefined;
  });
  assert.deepEqual(lines.map((l) => l.message), ["waiting to be stopped", "stopped: the run was cancelled; later lines of this step are not stored"]);
  await stop(ts);
});

test("a retried step: the first attempt fails, the second succeeds", async () => {
  const ts = await tsDriver("ts-flaky");
  const id = await runPipeline("retried", [{ id: "flaky", driver: "ts-flaky", retry: { attempts: 2, backoff: "1s" }, with: { mode: "flaky" } }]);
  const run = await runEnds(id, "succeeded");
  assert.equal(step(run, "flaky").attempt, 2);
  assert.equal(step(run, "flaky").result.message, "second attempt works");
  const lines = await until("both attempts' lines", async () => {
    const ls = (await logs(id)).filter((l) => l.driver === "ts-flaky");
    return ls.length >= 2 ? ls : undefined;
  });
  assert.deepEqual(lines.map((l) => [l.attempt, l.message]), [[1, "attempt 1"], [2, "attempt 2"]]);
  await stop(ts);
});

test("a granted secret is masked in the log and by log.mask", async () => {
  const { error } = await api.PUT("/secrets/{name}", { params: { path: { name: "tstoken" } }, body: { value: "hunter2-ts" } });
  assert.equal(error, undefined, JSON.stringify(error));
  const ts = await tsDriver("ts-secret");
  const id = await runPipeline("secretive", [{ id: "push", driver: "ts-secret", secrets: ["tstoken"], with: { mode: "secret" } }]);
  const run = await runEnds(id, "succeeded");
  assert.equal(step(run, "push").result.message, "used ***"); // the server stores results as sent: the SDK masked it
  const line = await until("the line", async () => (await logs(id)).find((l) => l.driver === "ts-secret"));
  assert.equal(line.message, "the token is ***");
  await stop(ts);
});

test("a driver killed mid-step: the step is redelivered to another process and done once", async () => {
  const done = join(server.dir, "done.txt");
  const env = { TS_DONE_FILE: done, TS_ACK_WAIT_MS: "2000" };
  const first = await tsDriver("ts-crash", env);
  const id = await runPipeline("crashing", [{ id: "slow", driver: "ts-crash", with: { mode: "slow", ms: 3000 } }]);
  await until("the step to start", () => (first.out.includes(`started ${id}.slow.1`) ? true : undefined));
  // The second process is up before the first dies: the redelivery comes one
  // ack wait (2 s) after the first's last in-progress ack, within the
  // heartbeat lease (4 s).
  const second = await tsDriver("ts-crash", env);
  await until("the second driver to pull", () => (second.err.includes("waiting for work") ? true : undefined));
  first.kill("SIGKILL");
  assert.equal((await first.exited).signal, "SIGKILL");
  const run = await runEnds(id, "succeeded");
  assert.equal(step(run, "slow").attempt, 1);
  assert.equal(step(run, "slow").result.message, `done by ${second.pid}`);
  assert.equal(await readFile(done, "utf8"), `${id}.slow.1 ${second.pid}\n`);
  await stop(second);
});

test("SIGTERM: work still running after the grace is handed back and done by the next process", async () => {
  const done = join(server.dir, "done-grace.txt");
  const first = await tsDriver("ts-grace", { TS_DONE_FILE: done, TS_SLOW_MS: "60000" });
  const id = await runPipeline("graceful", [{ id: "slow", driver: "ts-grace", with: { mode: "slow", ms: 100 } }]);
  await until("the step to start", () => (first.out.includes(`started ${id}.slow.1`) ? true : undefined));
  const sent = Date.now();
  first.kill("SIGTERM");
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  const took = Date.now() - sent;
  assert.ok(took >= 2000 && took < 8000, `the driver took ${took} ms to stop with a grace of 2 s`);
  assert.match(first.out, /driver stopped/);
  const second = await tsDriver("ts-grace", { TS_DONE_FILE: done });
  const run = await runEnds(id, "succeeded");
  assert.equal(step(run, "slow").attempt, 1);
  assert.equal(await readFile(done, "utf8"), `${id}.slow.1 ${second.pid}\n`);
  await stop(second);
});
