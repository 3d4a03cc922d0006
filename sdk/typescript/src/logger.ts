import { format } from "node:util";
import type { JetStreamClient } from "@nats-io/jetstream";
import { logSubject, type LogLine } from "./wire.js";

/** How long flush waits for the stream to acknowledge the lines so far. */
const flushWait = 5000;

/**
 * Logger writes lines into a run's log: each line is published with
 * JetStream on `logs.{run_id}` with the work's step and attempt
 * (docs/protocol.md#8-log-lines). The values of the step's granted
 * secrets are replaced by `***` before a line leaves the process. A line
 * that cannot be stored is counted in `dropped` and reported on stderr,
 * never fatal to the step.
 */
export class Logger {
  /** Lines the server did not store. */
  dropped = 0;
  private secrets: string[] = [];
  private halted = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly js: JetStreamClient | undefined,
    private readonly at: { runId: string; driver: string; pipeline: string; step?: string; attempt?: number },
  ) {}

  /** info writes its arguments as one line (as console.log formats them); a "\n" in them starts another line. */
  info(...args: unknown[]): void {
    for (const line of format(...args).split(/\r?\n/)) this.line(line);
  }

  /** print is info. */
  print(...args: unknown[]): void {
    this.info(...args);
  }

  /** mask replaces the value of every granted secret in s by ***, as lines are: for results and other output. */
  mask(s: string): string {
    for (const v of this.secrets) {
      if (v) s = s.split(v).join("***");
    }
    return s;
  }

  /** flush waits until every line so far is stored or dropped (at most 5 s). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((r) => (timer = setTimeout(r, flushWait))),
    ]);
    clearTimeout(timer);
  }

  /** @internal masks the values from now on. */
  addSecrets(values: string[]): void {
    this.secrets.push(...values.filter(Boolean));
    // Longest first, so that a secret containing another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  /** @internal a last line saying why the work was stopped; later lines are not stored. */
  stop(reason: string): void {
    if (this.halted) return;
    this.line(`stopped: ${reason}; later lines of this step are not stored`);
    this.halted = true;
  }

  private line(message: string): void {
    if (!this.js || !this.at.runId || this.halted) return;
    const now = new Date();
    const line: LogLine = {
      runid: this.at.runId, driver: this.at.driver, pipeline: this.at.pipeline,
      timestamp: String(Math.floor(now.getTime() / 1000)), message: this.mask(message), labels: {},
      time: now.toISOString(), step: this.at.step, attempt: this.at.attempt,
    };
    const p = this.js.publish(logSubject(this.at.runId), JSON.stringify(line), { timeout: flushWait }).then(
      () => undefined,
      (err: unknown) => {
        this.dropped++;
        console.error(`conveyor: log line of run ${this.at.runId} not stored: ${String(err)}`);
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
