// Runs the built binary with a fresh data directory, the protocol-only driver with credentials of
// its own, and two runs: one the driver answers with success, one with failure.
//
//   go build -o bin/conveyor ./cmd/conveyor && node --test examples/protocol-only/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, process.env.CONVEYOR_BIN ?? "../../bin/conveyor");
const driverName = "echo";

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

// Starts a process and resolves once a line of its output matches ready.
function start(cmd, args, env, ready, what) {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} not ready in 15 s:\n${out}`)), 15000);
    const seen = (b) => {
      out += b;
      if (ready.test(out)) { clearTimeout(timer); ok(p); }
    };
    p.stdout.on("data", seen);
    p.stderr.on("data", seen);
    p.once("exit", (code) => { clearTimeout(timer); fail(new Error(`${what} exited (${code}):\n${out}`)); });
  });
}

function cli(args, env, input) {
  return new Promise((ok, fail) => {
    const p = execFile(bin, args, { env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`conveyor ${args.join(" ")}: ${err.message}\n${stderr}`));
      else ok(stdout);
    });
    if (input !== undefined) p.stdin.end(input);
  });
}

async function stop(p) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((ok) => p.once("exit", ok));
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

const definitions = `
kind: ResourceDefinition
name: job
version: 1.0.0
schema:
  type: object
  properties:
    fail: {type: boolean}
---
kind: Pipeline
name: echo
resource: job
steps:
  - id: run
    driver: ${driverName}
`;
const resource = (name, fail) => `kind: Resource\nname: ${name}\nresource: job\npipeline: echo\nspec: {fail: ${fail}}\n`;

test("a driver written from docs/protocol.md alone", { timeout: 60000, skip: !existsSync(bin) && `no binary at ${bin}` }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "conveyor-protocol-only-"));
  const [apiPort, natsPort] = [await freePort(), await freePort()];
  const env = { CONVEYOR_DATA_DIR: dataDir, CONVEYOR_SERVER_HOST: "127.0.0.1", CONVEYOR_SERVER_PORT: String(apiPort) };
  let server, driver;
  t.after(async () => {
    await stop(driver);
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  server = await start(bin, ["server", "--data-dir", dataDir, "--addr", `127.0.0.1:${apiPort}`, "--nats-listen", `127.0.0.1:${natsPort}`],
    {}, /conveyor ready/, "server");
  const token = readFileSync(join(dataDir, "admin.token"), "utf8").trim();
  const api = async (path) => {
    const r = await fetch(`http://127.0.0.1:${apiPort}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return r.json();
  };

  const natsURL = (await cli(["drivers", "credentials", driverName], env)).trim();
  assert.match(natsURL, new RegExp(`^nats://cvy_[^@]+@127\\.0\\.0\\.1:${natsPort}$`));
  driver = await start(process.execPath, [join(here, "driver.mjs")],
    { CONVEYOR_NATS_URL: natsURL, DRIVER_NAME: driverName, DRIVER_RESOURCES: "job" }, /ready: consumer/, "driver");

  await cli(["apply", "-f", "-"], env, definitions);
  const runOf = async (name, fail) => {
    const out = await cli(["apply", "-f", "-"], env, resource(name, fail));
    const m = out.match(/run ([0-9a-f-]{36})/);
    assert.ok(m, `no run in: ${out}`);
    return m[1];
  };
  const ended = async (id) => {
    for (const until = Date.now() + 20000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      const run = await api(`/runs/${id}`);
      if (["succeeded", "failed", "cancelled"].includes(run.status)) return run;
    }
    assert.fail(`run ${id} did not end in 20 s`);
  };

  const good = await ended(await runOf("ok-1", false));
  assert.equal(good.status, "succeeded");
  assert.equal(good.steps[0].driver, driverName);
  assert.equal(good.steps[0].result.success, true);
  assert.equal(good.steps[0].result.message, "ok-1 done");

  const logs = await api(`/runs/${good.id}/logs`);
  const line = logs.items.find((l) => l.message === "running step run of job/ok-1 (attempt 1)");
  assert.ok(line, `log line missing: ${JSON.stringify(logs)}`);
  assert.equal(line.driver, driverName);
  assert.equal(line.step, "run");
  assert.equal(line.attempt, 1);

  const bad = await ended(await runOf("bad-1", true));
  assert.equal(bad.status, "failed");
  assert.equal(bad.steps[0].status, "failed");
  assert.equal(bad.steps[0].result.success, false);
  assert.equal(bad.steps[0].result.message, "bad-1 asked to fail");
  const badLogs = await api(`/runs/${bad.id}/logs`);
  assert.ok(badLogs.items.some((l) => l.message === "failing step run of job/bad-1 (attempt 1)"), JSON.stringify(badLogs));
});
