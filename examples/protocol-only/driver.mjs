// A Conveyor driver in plain JavaScript, written from docs/protocol.md and the JSON Schemas in
// sdk/protocol alone: no SDK, only the NATS client and its JetStream package.
//
//   CONVEYOR_NATS_URL=$(conveyor drivers credentials echo) DRIVER_NAME=echo DRIVER_RESOURCES=job node driver.mjs
//
// Each step's work is answered with one log line and a result: success, unless the resource's spec
// says {"fail": true} (or the step's `with` does), then failure. Stop with SIGINT or SIGTERM.
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";

// The NATS packages of the TypeScript SDK's checkout (npm ci in sdk/typescript).
const require = createRequire(new URL("../../sdk/typescript/package.json", import.meta.url));
const { connect, headers } = require("@nats-io/transport-node");
const { jetstream } = require("@nats-io/jetstream");

const natsURL = process.env.CONVEYOR_NATS_URL ?? "nats://127.0.0.1:4222";
const driver = process.env.DRIVER_NAME ?? "echo";
const resources = (process.env.DRIVER_RESOURCES ?? "job").split(",").filter(Boolean);
const ackWaitMs = 30000;

const enc = (v) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b) => JSON.parse(new TextDecoder().decode(b));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (...a) => console.log(`[${driver}]`, ...a);

// §1: the part of the URL before @ is a NATS token, not a user; the inbox prefix must be
// _INBOX.{driver}, or every reply (JetStream's too) is refused.
const url = new URL(natsURL);
const token = decodeURIComponent(url.username);
const nc = await connect({
  servers: `${url.hostname}:${url.port || 4222}`,
  ...(token ? { token } : {}),
  inboxPrefix: `_INBOX.${driver}`,
  name: `${driver}-protocol-only`,
});
(async () => {
  for await (const s of nc.status()) if (s.type === "error") say("nats:", s.error?.message ?? s);
})();

// §2: ask the server for the durable consumer; repeat on timeout or no responders, 250 ms doubling to 5 s.
async function askForConsumer() {
  let pause = 250;
  for (;;) {
    try {
      const m = await nc.request(`conveyor.drivers.${driver}.consumer`, enc({ resources, ackWaitMs, maxAckPending: 1000 }), { timeout: 5000 });
      const reply = dec(m.data);
      if (!reply.ok) throw new Error(`consumer refused: ${reply.error}`); // final
      return;
    } catch (err) {
      if (String(err.message).startsWith("consumer refused")) throw err;
      say(`consumer request: ${err.message}; again in ${pause} ms`);
      await sleep(pause);
      pause = Math.min(pause * 2, 5000);
    }
  }
}
await askForConsumer();

// §7: stop notices; this driver's steps are short, so a notice only marks the work stopped.
const stopped = new Set();
const stopSub = nc.subscribe(`conveyor.drivers.${driver}.stop`, {
  callback: (err, m) => {
    if (err) return;
    try {
      const n = dec(m.data);
      stopped.add(`${n.run_id}.${n.step}.${n.attempt}`);
      say(`stop: ${n.run_id} ${n.step}#${n.attempt}: ${n.reason}`);
    } catch { /* not JSON: ignore */ }
  },
});

// §10: presence, at start, every 5 s, and once with leaving.
const instance = randomBytes(6).toString("hex").toUpperCase();
const since = new Date().toISOString();
const announce = (leaving = false) =>
  nc.publish(`conveyor.presence.${driver}`, enc({ driver, instance, resources, version: "protocol-only", host: hostname(), since, ...(leaving ? { leaving } : {}) }));
announce();
const presence = setInterval(() => announce(), 5000);

const js = jetstream(nc);

// §8: one log line; a line that could not be stored is dropped, never a failure of the step.
async function log(work, resource, message) {
  const now = new Date();
  const line = {
    runid: work.run_id, driver, pipeline: resource.pipeline ?? "",
    timestamp: String(Math.floor(now.getTime() / 1000)), message, labels: {},
    time: now.toISOString(), step: work.step, attempt: work.attempt,
  };
  try {
    await js.publish(`logs.${work.run_id}`, enc(line));
  } catch (err) {
    say(`log line dropped: ${err.message}`);
  }
}

async function handle(m) {
  let work, resource;
  try {
    work = dec(m.data);
    resource = JSON.parse(work.payload); // §3: the payload is the resource as a JSON string
    if (typeof resource !== "object" || resource === null || !resource.name) throw new Error("payload is not a resource");
  } catch (err) {
    say(`not the protocol (${err.message}): +TERM`);
    m.term();
    return;
  }
  if (!work.step) { // a fan-out: no result, ack when done
    say(`fan-out ${work.event} of ${resource.resource}/${resource.name}`);
    m.ack();
    return;
  }
  const key = work.id; // {run_id}.{step}.{attempt}
  if (stopped.has(key)) { m.ack(); return; }

  // §5: heartbeats every second, the first at once, until the result is stored.
  const beat = (done) => nc.publish(`conveyor.heartbeats.${driver}`, enc({ run_id: work.run_id, step: work.step, attempt: work.attempt, driver, ...(done ? { done: true } : {}) }));
  beat(false);
  const heartbeats = setInterval(() => beat(false), 1000);
  // §4: +WPI every third of the ack wait while the step runs.
  const progress = setInterval(() => m.working(), Math.floor(ackWaitMs / 3));
  try {
    const fail = resource.spec?.fail === true || work.with?.fail === true;
    await log(work, resource, `${fail ? "failing" : "running"} step ${work.step} of ${resource.resource}/${resource.name} (attempt ${work.attempt})`);
    const result = {
      event: "driver.result",
      run_id: work.run_id,
      step: work.step,
      resource,
      driverresult: fail
        ? { success: false, message: `${resource.name} asked to fail`, data: {}, driver }
        : { success: true, message: `${resource.name} done`, data: { by: driver, key }, driver },
    };
    // §6: publish with JetStream, Nats-Msg-Id {id}.result, wait for the stream's ack, then ack the work.
    const h = headers();
    h.set("Nats-Msg-Id", `${key}.result`);
    const deadline = Date.now() + 120000;
    for (let pause = 1000; ; pause = Math.min(pause * 2, 10000)) {
      try {
        await js.publish(`pipelines.driver.result.${driver}`, enc(result), { headers: h });
        break;
      } catch (err) {
        if (Date.now() + pause > deadline) {
          say(`result not stored (${err.message}): handing the work back`);
          m.nak(1000);
          return;
        }
        await sleep(pause);
      }
    }
    await m.ackAck();
    say(`${key}: ${fail ? "failure" : "success"}`);
  } finally {
    clearInterval(progress);
    clearInterval(heartbeats);
    beat(true);
  }
}

// §2: bind to the consumer by name and pull.
const consumer = await js.consumers.get("messages", driver);
const messages = await consumer.consume({ max_messages: 16 });
say(`ready: consumer ${driver} on messages, resources ${resources.join(",")}`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  clearInterval(presence);
  announce(true);
  stopSub.unsubscribe();
  await messages.close().catch(() => {});
  await nc.drain().catch(() => {});
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

for await (const m of messages) {
  handle(m).catch((err) => say(`step error: ${err.message}`));
}
