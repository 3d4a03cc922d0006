// What the TypeScript driver publishes, and what the server sends it,
// against the driver protocol's JSON Schemas (sdk/protocol/*.schema.json),
// as cmd/conveyor's TestProtocolMessagesMatchTheirSchemas does for the Go
// SDK: a server with credentials required, the fixture driver with its own,
// and a connection with the admin token that hears everything on NATS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { connect } from "@nats-io/transport-node";
import { createClient } from "../dist/index.js";
import { start, startServer, stop, stopAll, until } from "./harness.mjs";

const fixture = fileURLToPath(new URL("./fixtures/driver.mjs", import.meta.url));
const schemaDir = new URL("../../protocol/", import.meta.url);
const schemaBase = "https://github.com/conveyor/conveyor/sdk/protocol/";
const driver = "ts-schemas";
/** The kinds the driver publishes and those the server sends it. */
const published = ["consumer-request", "heartbeat", "log-line", "result", "secrets-request", "presence"];
const received = ["consumer-reply", "work", "stop", "secrets-reply"];

let server, api, nc;

before(async () => {
  server = await startServer();
  api = createClient({ baseUrl: server.api, token: server.token });
  const { error } = await api.POST("/resource-definitions", { body: { name: "tsjob", version: "1.0.0", schema: { type: "object" } } });
  assert.equal(error, undefined, JSON.stringify(error));
  const { host } = new URL(server.nats.includes("://") ? server.nats : `nats://${server.nats}`);
  nc = await connect({ servers: host, token: server.token, name: "schema-listener" });
});

after(async () => {
  await nc?.close();
  await stopAll();
  await server?.close();
});

/** protocolSchemas compiles every schema of sdk/protocol, formats asserted; validate(kind, body) checks one message. */
async function protocolSchemas() {
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const files = (await readdir(schemaDir)).filter((f) => f.endsWith(".schema.json"));
  assert.ok(files.length > 0, `no schemas in ${fileURLToPath(schemaDir)}`);
  for (const f of files) {
    const schema = JSON.parse(await readFile(new URL(f, schemaDir), "utf8"));
    assert.equal(schema.$id, schemaBase + f, `${f}: its $id`);
    ajv.addSchema(schema);
  }
  /** validate returns what is wrong with body, a message of kind, or "" when nothing is. A work message's payload is a resource. */
  return function validate(kind, body) {
    const check = ajv.getSchema(`${schemaBase}${kind}.schema.json`);
    assert.ok(check, `no schema for ${kind}`);
    if (!check(body)) return ajv.errorsText(check.errors, { dataVar: kind });
    return kind === "work" ? validate("resource", JSON.parse(body.payload)) : "";
  };
}

/**
 * listen hears every message on NATS and keeps those of the protocol
 * between the server and the driver, with their kind and who sent them.
 */
function listen() {
  const seen = [];
  const replies = new Map(); // a request's reply subject → the kind of its answer
  const request = (m, kind, answer) => {
    if (m.reply) replies.set(m.reply, answer);
    return { kind, from: "driver" };
  };
  const classify = (m) => {
    const p = m.subject.split(".");
    if (m.subject === `conveyor.drivers.${driver}.consumer`) return request(m, "consumer-request", "consumer-reply");
    if (m.subject === `conveyor.secrets.${driver}`) return request(m, "secrets-request", "secrets-reply");
    if (m.subject === `conveyor.heartbeats.${driver}`) return { kind: "heartbeat", from: "driver" };
    if (m.subject === `conveyor.presence.${driver}`) return { kind: "presence", from: "driver" };
    if (m.subject === `pipelines.driver.result.${driver}`) return { kind: "result", from: "driver" };
    if (p.length === 2 && p[0] === "logs") return { kind: "log-line", from: m.json().driver === driver ? "driver" : "server" };
    if (m.subject === `conveyor.drivers.${driver}.stop`) return { kind: "stop", from: "server" };
    if ((p.length === 4 && p[0] === "drivers" && p[1] === driver && p[2] === "resources") || (p.length === 2 && p[0] === "resources")) {
      return { kind: "work", from: "server" };
    }
    const answer = replies.get(m.subject);
    replies.delete(m.subject);
    return answer && { kind: answer, from: "server" };
  };
  const sub = nc.subscribe(">", {
    callback: (err, m) => {
      // A message a stream delivers to a consumer was seen when it was published.
      if (err || m.reply?.startsWith("$JS.ACK.")) return;
      let c;
      try {
        c = classify(m);
      } catch {
        c = { kind: "log-line", from: "driver" }; // a log line that is not JSON: kept, to fail validation
      }
      if (c) seen.push({ ...c, subject: m.subject, data: m.string() });
    },
  });
  return { seen, sub };
}

/** runPipeline creates the pipeline and a resource of it, and returns the run's id. */
async function runPipeline(name, steps) {
  let r = await api.POST("/pipelines", { body: { name, resource: "tsjob", steps } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  r = await api.POST("/resources", { body: { name, resource: "tsjob", pipeline: name, spec: {} } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  return r.data.runid;
}

async function runEnds(id, want) {
  return until(`run ${id} ${want}`, async () => {
    const { data } = await api.GET("/runs/{id}", { params: { path: { id } } });
    return data?.status === want ? data : undefined;
  }, 40_000);
}

test("every message the TypeScript driver publishes and is sent matches its schema", async () => {
  const validate = await protocolSchemas();
  assert.notEqual(validate("presence", { driver, instance: "x", resources: ["tsjob"], since: "now" }), "", "a presence whose since is no time is valid");
  const { seen, sub } = listen();
  await nc.flush();

  const { error } = await api.PUT("/secrets/{name}", { params: { path: { name: "tstoken" } }, body: { value: "hunter2-schemas" } });
  assert.equal(error, undefined, JSON.stringify(error));
  const url = await server.cli("drivers", "credentials", driver);
  const ts = start(process.execPath, [fixture], { CONVEYOR_NATS_URL: url, TS_DRIVER_NAME: driver });

  // A secret, a log line, a result; then a matrix step, whose instances' ids are step ids of their own.
  const id = await runPipeline("schemas", [
    { id: "push", driver, secrets: ["tstoken"], with: { mode: "secret" } },
    { id: "ship", driver, needs: ["push"], matrix: { os: ["linux", "mac os"] }, with: { mode: "ok", input: "${{ matrix.os }}" } },
  ]);
  await runEnds(id, "succeeded");
  // A change of a resource without a pipeline, fanned out to the driver.
  const r = await api.POST("/resources", { body: { name: "loose", resource: "tsjob", spec: {} } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  // A run cancelled mid-step: the driver is told to stop.
  const doomed = await runPipeline("schemas-stopped", [{ id: "wait", driver, with: { mode: "wait" } }]);
  await until("the step to start", () => (ts.out.includes(`started ${doomed}.wait.1`) ? true : undefined));
  const cancelled = await api.POST("/runs/{id}/cancel", { params: { path: { id: doomed } } });
  assert.equal(cancelled.error, undefined, JSON.stringify(cancelled.error));
  await until("the result of the stopped step", () => (ts.err.includes(`run=${doomed} step=wait attempt=1: work done`) ? true : undefined));
  await until("the fan-out", () => (seen.some((m) => m.subject === "resources.tsjob") ? true : undefined));
  await stop(ts); // it says it is leaving
  await until("the driver's leaving", () => (seen.some((m) => m.kind === "presence" && JSON.parse(m.data).leaving) ? true : undefined));
  await nc.flush();
  sub.unsubscribe();

  const bad = [];
  const count = {};
  for (const m of seen) {
    const key = `${m.from} ${m.kind}`;
    count[key] = (count[key] ?? 0) + 1;
    let body;
    try {
      body = JSON.parse(m.data);
    } catch (err) {
      bad.push(`${key} on ${m.subject}: not JSON (${err.message}): ${m.data}`);
      continue;
    }
    const wrong = validate(m.kind, body);
    if (wrong) bad.push(`${key} on ${m.subject}: ${wrong}\n  ${m.data}`);
  }
  if (bad.length) assert.fail(`${bad.length} of ${seen.length} messages not valid against their schemas:\n${bad.join("\n")}`);
  const missing = [...published.map((k) => `driver ${k}`), ...received.map((k) => `server ${k}`)].filter((k) => !count[k]);
  assert.deepEqual(missing, [], `no message seen of each of these; seen ${JSON.stringify(count)}`);
  const beats = seen.filter((m) => m.kind === "heartbeat").map((m) => JSON.parse(m.data).step);
  assert.ok(beats.includes("ship[os=mac%20os]"), `no heartbeat of the matrix instance ship[os=mac%20os]; of ${[...new Set(beats)]}`);
  console.log(`validated ${JSON.stringify(count)}`);
});
