import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type Consumer, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { connectionOptions, defaultNatsUrl, redactUrl, settingsFromEnv, type ConnectSettings } from "./connect.js";
import { askConsumer, RefusedError } from "./consumer.js";
import { sendHeartbeats } from "./heartbeat.js";
import { Inflight } from "./inflight.js";
import { Logger } from "./logger.js";
import { announce } from "./presence.js";
import { errorMessage, every, log, sleep, within } from "./repeat.js";
import { fetchSecrets } from "./secrets.js";
import { attemptKey, decodeWork, idempotencyKey, messagesStream, resultSubject, stopSubject, validName,
  type Resource, type ResultMessage, type StopNotice, type WorkMessage } from "./wire.js";

/** How long a reconcile still running after its abort may take before its work is handed back. */
export const abandonAfter = 5000;
/** How long a result waits for a server that does not answer: the result stream's duplicate window. */
export const resultPatience = 120_000;

export interface DriverOptions extends ConnectSettings {
  /** The driver's name: steps name it in `driver:`. */
  name: string;
  /** The resource types it listens to. */
  resources: string[];
  /** Work run at once (default 1). */
  concurrency?: number;
  /** The consumer's ack wait in ms (default 30000). */
  ackWaitMs?: number;
  /** After SIGINT, SIGTERM or stop(), how long running work may finish before it is aborted and handed back (default 30000). */
  graceMs?: number;
  /** Handle SIGINT and SIGTERM by stopping (default true). */
  handleSignals?: boolean;
}

/** What reconcile is given: the work. */
export interface Request {
  /** create, update, delete or process. */
  event: string;
  resource: Resource;
  runId: string;
  /** The step's id; "" for a fan-out. */
  step: string;
  /** The attempt, from 1; 0 for a fan-out. */
  attempt: number;
  /** `{run_id}.{step}.{attempt}` for a step: make side effects idempotent by it. */
  idempotencyKey: string;
  /** The values of the step's granted secrets, by name. */
  secrets: Record<string, string>;
  /** The step's parameters, evaluated by the server. */
  with: Record<string, unknown>;
}

export interface Context {
  /** Aborts when the server stops the work (reason: a WorkStoppedError) or on shutdown past the grace. */
  signal: AbortSignal;
  /** Lines into the run's log. */
  log: Logger;
}

export interface Result {
  success: boolean;
  message?: string;
  data?: Record<string, unknown>;
}

export type Reconcile = (request: Request, ctx: Context) => Result | Promise<Result>;

/**
 * Driver takes work from a Conveyor server and reports on it, as the Go
 * SDK's Manager does (docs/protocol.md). Create it, then `await run()`:
 * it returns once stop() was called (or SIGINT/SIGTERM came) and the work
 * in flight is settled.
 */
export class Driver {
  private readonly opts: Required<Omit<DriverOptions, keyof ConnectSettings>> & ConnectSettings;
  private readonly work = new Inflight();
  private readonly stopping: Promise<void>;
  private stopNow!: () => void;
  private stopped = false;
  /** Aborted when the grace is over: running work is aborted and handed back. */
  private readonly shutdown = new AbortController();
  /** Aborted when the work still running after its abort is abandoned. */
  private readonly abandoned = new AbortController();
  private readonly tasks = new Set<Promise<void>>();
  private nc?: NatsConnection;
  /** The pull waiting now, ended by stop(). */
  private batch?: { stop(): void };

  constructor(options: DriverOptions, private readonly reconcile: Reconcile) {
    const env = settingsFromEnv();
    this.opts = {
      concurrency: 1, ackWaitMs: 30_000, graceMs: 30_000, handleSignals: true,
      natsUrl: env.natsUrl, token: env.token, caCert: env.caCert,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DriverOptions),
    };
    const errs: string[] = [];
    if (!validName(this.opts.name)) errs.push(`driver name ${JSON.stringify(this.opts.name)} must be 1 to 63 lower-case letters, digits, '-' or '_'`);
    if (!this.opts.resources?.length) errs.push(`driver ${this.opts.name} listens to no resource type`);
    for (const r of this.opts.resources ?? []) if (!validName(r)) errs.push(`resource type ${JSON.stringify(r)} is not a valid name`);
    if (!(this.opts.concurrency >= 1)) errs.push("concurrency must be at least 1");
    if (!(this.opts.ackWaitMs >= 1000 && this.opts.ackWaitMs <= 3_600_000)) errs.push("ackWaitMs must be 1000 to 3600000");
    if (errs.length) throw new Error(`conveyor: ${errs.join("; ")}`);
    this.stopping = new Promise((r) => (this.stopNow = r));
  }

  get name(): string {
    return this.opts.name;
  }

  /** stop ends run: no new work, running work gets the grace period. Safe to call more than once. */
  stop(): void {
    this.stopped = true;
    this.batch?.stop();
    this.stopNow();
  }

  /**
   * run connects, asks the server for the driver's consumer, and takes work
   * until stop(). Then it waits up to the grace for running work, aborts
   * what is left, waits up to 5 s more, hands back (naks) what still runs,
   * and closes the connection.
   */
  async run(): Promise<void> {
    const onSignal = () => this.stop();
    if (this.opts.handleSignals) {
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    }
    try {
      const nc = await this.untilUp("connecting to NATS", () => connect(connectionOptions(this.name, this.opts)), isFinalConnectError);
      if (!nc) return;
      this.nc = nc;
      try {
        await this.serve(nc);
      } finally {
        await nc.drain().catch(() => nc.close());
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }

  private async serve(nc: NatsConnection): Promise<void> {
    log(`connected to NATS at ${redactUrl(this.opts.natsUrl || defaultNatsUrl)}`, this.name);
    const asked = await this.untilUp("asking for the driver's consumer", () => askConsumer(nc, this.name, this.opts.resources, this.opts.ackWaitMs, this.opts.concurrency), (e) => e instanceof RefusedError);
    if (asked === undefined) return;
    const js = jetstream(nc);
    const consumer = await this.untilUp("binding to the consumer", () => js.consumers.get(messagesStream, this.name), () => false);
    if (!consumer) return;
    const stops = nc.subscribe(stopSubject(this.name), {
      callback: (err, msg) => {
        if (err) return;
        let n: StopNotice;
        try {
          n = msg.json<StopNotice>();
        } catch {
          return;
        }
        if (n?.run_id && this.work.stop(attemptKey(n.run_id, n.step, n.attempt), n.reason)) {
          log(`stopping work: ${n.reason}`, this.name, `run=${n.run_id} step=${n.step} attempt=${n.attempt}`);
        }
      },
    });
    const stopPresence = announce(nc, this.name, this.opts.resources);
    log(`waiting for work: resources=${this.opts.resources.join(",")} concurrency=${this.opts.concurrency}`, this.name);
    try {
      await this.pull(js, consumer);
      await this.drainWork();
    } finally {
      stops.unsubscribe();
      stopPresence();
      await nc.flush().catch(() => undefined);
    }
  }

  /** pull takes work while a slot is free, until stop(). */
  private async pull(js: JetStreamClient, consumer: Consumer): Promise<void> {
    const results = resultSubject(this.name);
    while (!this.stopped) {
      const free = this.opts.concurrency - this.tasks.size;
      if (free <= 0) {
        await Promise.race([...this.tasks, this.stopping]);
        continue;
      }
      let batch;
      try {
        batch = await consumer.fetch({ max_messages: free, expires: 5000 });
      } catch (err) {
        log(`pull failed: ${errorMessage(err)}`, this.name);
        await Promise.race([sleep(1000), this.stopping]);
        continue;
      }
      this.batch = batch;
      if (this.stopped) batch.stop();
      try {
        for await (const msg of batch) {
          if (this.stopped) {
            msg.nak();
            continue;
          }
          const task = this.handle(js, results, msg).catch((err) => log(`work failed: ${errorMessage(err)}`, this.name));
          this.tasks.add(task);
          void task.finally(() => this.tasks.delete(task));
        }
      } catch (err) {
        // The pull ended early (the connection dropped, say); a new one follows.
        log(`pull ended: ${errorMessage(err)}`, this.name);
        await Promise.race([sleep(1000), this.stopping]);
      }
    }
  }

  /** drainWork waits for running work: the grace, then its abort, then abandonAfter. */
  private async drainWork(): Promise<void> {
    const all = () => Promise.allSettled([...this.tasks]);
    if (await within(all(), this.opts.graceMs)) return;
    this.shutdown.abort(new Error("the driver is shutting down"));
    for (const r of this.work.running.values()) r.controller.abort(new Error("the driver is shutting down"));
    if (await within(all(), abandonAfter)) return;
    log(`work still running ${abandonAfter} ms after its abort is abandoned and handed back`, this.name);
    this.abandoned.abort();
  }

  /** handle runs one message and settles it (docs/protocol.md, sections 3 to 9). */
  private async handle(js: JetStreamClient, results: string, msg: JsMsg): Promise<void> {
    let work: WorkMessage, resource: Resource;
    try {
      ({ work, resource } = decodeWork(msg.data));
    } catch (err) {
      log(`message terminated: not the protocol's JSON: ${String(err)}`, this.name, msg.subject);
      msg.term();
      return;
    }
    // A step has a result (even from a server that names no step); a fan-out has none.
    const isStep = msg.subject.startsWith("drivers.");
    const key = idempotencyKey(work);
    const logger = new Logger(js, { runId: work.run_id, driver: this.name, pipeline: resource.pipeline ?? "", step: work.step, attempt: work.attempt });
    const where = `run=${work.run_id} step=${work.step ?? ""} attempt=${work.attempt ?? 0}`;

    const stoppedFor = this.work.stoppedReason(key);
    if (stoppedFor !== undefined) {
      log(`work not started: stopped: ${stoppedFor}`, this.name, where);
      msg.ack(); // the server withdrew it; its result would be ignored
      return;
    }
    const earlier = this.work.running.get(key);
    if (earlier || this.work.wasStored(key)) {
      await this.settleAgain(msg, key, earlier?.settled, logger);
      return;
    }

    const { running, end } = this.work.begin(key, (reason) => logger.stop(reason));
    const { signal } = running.controller;
    const timers: (() => void)[] = [];
    const stopTimers = () => timers.splice(0).forEach((t) => t());
    timers.push(every(this.opts.ackWaitMs / 3, false, () => msg.working()));
    if (isStep && work.step) timers.push(sendHeartbeats(this.nc!, this.name, work));
    const onAbandon = () => {
      stopTimers();
      end(false);
      msg.nak();
    };
    this.abandoned.signal.addEventListener("abort", onAbandon);
    try {
      let result: Result;
      let secrets: Record<string, string> = {};
      try {
        if (work.secrets?.length) {
          secrets = await fetchSecrets(this.nc!, this.name, work);
          logger.addSecrets(Object.values(secrets));
        }
      } catch (err) {
        log(`secrets not received; the step fails: ${errorMessage(err)}`, this.name, where);
        await this.finish(js, results, msg, work, resource, { success: false, message: `secrets: ${errorMessage(err)}` }, isStep, end);
        return;
      }
      log("work taken", this.name, where);
      const request: Request = {
        event: work.event, resource, runId: work.run_id, step: work.step ?? "", attempt: work.attempt ?? 0,
        idempotencyKey: key, secrets, with: work.with ?? {},
      };
      try {
        result = await this.reconcile(request, { signal, log: logger });
        if (typeof result !== "object" || result === null) throw new Error(`reconcile returned ${String(result)}, not a result`);
      } catch (err) {
        result = { success: false, message: errorMessage(err) };
      }
      await logger.flush();
      if (this.abandoned.signal.aborted) return; // handed back already
      if (this.shutdown.signal.aborted) {
        end(false);
        msg.nak(); // shut down mid-work: another process takes it
        return;
      }
      log(`work done: success=${result.success} message=${JSON.stringify(clip(result.message ?? "", 200))}`, this.name, where);
      await this.finish(js, results, msg, work, resource, result, isStep, end);
    } finally {
      this.abandoned.signal.removeEventListener("abort", onAbandon);
      stopTimers();
      end(false);
    }
  }

  /**
   * finish publishes a step's result, waits for the stream's ack, then acks
   * the work; a result that cannot be stored hands the work back.
   */
  private async finish(js: JetStreamClient, subject: string, msg: JsMsg, work: WorkMessage, resource: Resource,
    result: Result, isStep: boolean, end: (stored: boolean) => void): Promise<void> {
    if (isStep) {
      const body: ResultMessage = {
        event: "driver.result", run_id: work.run_id, step: work.step, resource,
        driverresult: { success: !!result.success, message: result.message ?? "", data: result.data ?? {}, driver: this.name },
      };
      try {
        await this.publishPatiently(js, subject, JSON.stringify(body), work.id ? `${work.id}.result` : undefined);
      } catch (err) {
        log(`result not published; the work comes again: ${errorMessage(err)}`, this.name, `run=${work.run_id}`);
        end(false);
        if (!this.abandoned.signal.aborted) msg.nak(redeliveryPause(msg));
        return;
      }
    }
    if (this.abandoned.signal.aborted) return;
    end(true);
    try {
      await msg.ackAck({ timeout: 5000 });
    } catch (err) {
      // The result is stored: should the work come again, it is acknowledged without running.
      log(`ack failed; the work may come again: ${errorMessage(err)}`, this.name, `run=${work.run_id}`);
    }
  }

  private async publishPatiently(js: JetStreamClient, subject: string, body: string, msgID?: string): Promise<void> {
    const giveUp = Date.now() + resultPatience;
    for (let pause = 100; ; pause = Math.min(pause * 2, 5000)) {
      try {
        await js.publish(subject, body, { msgID, timeout: 5000 });
        return;
      } catch (err) {
        if (Date.now() + pause > giveUp || this.abandoned.signal.aborted) throw err;
        await sleep(pause);
      }
    }
  }

  /** settleAgain settles a delivery of work that runs or ran here, without running it again. */
  private async settleAgain(msg: JsMsg, key: string, running: Promise<boolean> | undefined, logger: Logger): Promise<void> {
    let stored = true;
    if (running) {
      logger.info(`delivered again while it runs here (${key}); not run twice`);
      const stop = every(this.opts.ackWaitMs / 3, false, () => msg.working());
      stored = await running;
      stop();
    } else {
      logger.info(`delivered again after its result was stored (${key}); not run again`);
    }
    await logger.flush();
    log(`a delivery of work this process runs or ran was not run again: stored=${stored}`, this.name, key);
    if (!stored) {
      msg.nak(redeliveryPause(msg));
      return;
    }
    await msg.ackAck({ timeout: 5000 }).catch(() => undefined);
  }

  /**
   * untilUp calls f until it succeeds, pausing 250 ms doubling to 5 s, unless
   * the error is final (thrown) or stop() came (undefined).
   */
  private async untilUp<T>(what: string, f: () => Promise<T>, final: (e: unknown) => boolean): Promise<T | undefined> {
    for (let pause = 250; !this.stopped; pause = Math.min(pause * 2, 5000)) {
      try {
        return await f();
      } catch (err) {
        if (final(err)) throw err;
        log(`${what}: ${errorMessage(err)}; trying again in ${pause} ms`, this.name);
        await Promise.race([sleep(pause), this.stopping]);
      }
    }
    return undefined;
  }
}

function isFinalConnectError(err: unknown): boolean {
  return /authori[sz]ation|authentication/i.test(errorMessage(err));
}

/** redeliveryPause backs off redeliveries of work whose result could not be stored: 1 s, 5 s, then 30 s. */
function redeliveryPause(msg: JsMsg): number {
  const n = msg.info?.deliveryCount ?? 1;
  return n <= 1 ? 1000 : n === 2 ? 5000 : 30_000;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}

