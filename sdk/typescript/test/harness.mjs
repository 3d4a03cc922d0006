// A real Conveyor server and drivers for the tests: the binary from
// CONVEYOR_BIN (default ../../bin/conveyor), a temporary data directory,
// free ports. Every process started here is ended by stopAll.
import { spawn, execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
export const bin = resolve(here, "..", process.env.CONVEYOR_BIN || "../../bin/conveyor");
const children = new Set();

/** start spawns a child process that stopAll ends; its output is kept in out/err. */
export function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.out = "";
  child.err = "";
  child.stdout.on("data", (d) => (child.out += d));
  child.stderr.on("data", (d) => (child.err += d));
  child.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** stop sends SIGTERM, then SIGKILL after ms, and waits for the exit. */
export async function stop(child, ms = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), ms);
  await child.exited;
  clearTimeout(t);
}

export async function stopAll() {
  await Promise.all([...children].map((c) => stop(c)));
}

/** until polls f until it returns a value that is not undefined, or throws after ms. */
export async function until(what, f, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * startServer runs `conveyor server` on free ports and returns its API and
 * NATS addresses (from the ready line), the admin token, and helpers.
 */
export async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), "ts-conveyor-"));
  const server = start(bin, ["server", "--data-dir", dir, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"]);
  const ready = await until("the server's ready line", () => {
    if (server.exitCode !== null) throw new Error(`the server exited: ${server.err}`);
    const m = /msg="conveyor ready".*?api=(\S+).*?nats=(\S+)/.exec(server.err);
    return m ? { api: m[1], nats: m[2] } : undefined;
  }, 60_000);
  const api = ready.api.startsWith("http") ? ready.api : `http://${ready.api}`;
  const token = (await readFile(join(dir, "admin.token"), "utf8")).trim();
  const { hostname, port } = new URL(api);
  const cliEnv = { ...process.env, CONVEYOR_SERVER_HOST: hostname, CONVEYOR_SERVER_PORT: port, CONVEYOR_DATA_DIR: dir, CONVEYOR_TOKEN: token };
  return {
    process: server, dir, api, nats: ready.nats, token, cliEnv,
    /** cli runs the binary's CLI against this server. */
    async cli(...args) {
      const { stdout } = await promisify(execFile)(bin, args, { env: cliEnv });
      return stdout.trim();
    },
    async close() {
      await stop(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
