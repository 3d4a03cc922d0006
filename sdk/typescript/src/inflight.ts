/**
 * Inflight is this process's memory of work by idempotency key: what runs
 * now, what was stored lately, and the stop notices heard lately. A
 * delivery of a key that runs here is not run twice; one whose result was
 * stored here is acknowledged without running (sdk/inflight.go). Only one
 * process knows its own work: a key running in another process of the
 * driver is not seen here.
 */
export interface Running {
  controller: AbortController;
  /** Resolves once the work is settled: true when its result was stored and the message acknowledged. */
  settled: Promise<boolean>;
  /** stop is called on a stop notice, before the signal aborts. */
  onStop: (reason: string) => void;
}

/** recentSize bounds the stored keys and stop notices remembered. */
export const recentSize = 4096;

export class Inflight {
  readonly running = new Map<string, Running>();
  private readonly stored = new Recent<true>();
  private readonly stopped = new Recent<string>();

  /** stoppedReason is why the work of key was stopped, if a notice said so. */
  stoppedReason(key: string): string | undefined {
    return this.stopped.get(key);
  }

  wasStored(key: string): boolean {
    return this.stored.get(key) === true;
  }

  /** begin registers key as running; end must be called with whether it was stored. */
  begin(key: string, onStop: (reason: string) => void): { running: Running; end: (stored: boolean) => void } {
    let resolve!: (stored: boolean) => void;
    const settled = new Promise<boolean>((r) => (resolve = r));
    const running: Running = { controller: new AbortController(), settled, onStop };
    this.running.set(key, running);
    let ended = false;
    const end = (stored: boolean) => {
      if (ended) return;
      ended = true;
      if (this.running.get(key) === running) this.running.delete(key);
      if (stored) this.stored.add(key, true);
      resolve(stored);
    };
    return { running, end };
  }

  /** stop remembers a stop notice and aborts the work of key if it runs here. */
  stop(key: string, reason: string): boolean {
    if (this.stopped.get(key) === undefined) this.stopped.add(key, reason);
    const r = this.running.get(key);
    if (!r) return false;
    r.onStop(reason);
    r.controller.abort(new WorkStoppedError(reason));
    return true;
  }
}

/** The reason of a reconcile's signal when the server told the driver to stop that work. */
export class WorkStoppedError extends Error {
  constructor(readonly reason: string) {
    super(`the server stopped this work: ${reason}`);
    this.name = "WorkStoppedError";
  }
}

/** Recent is a bounded map: past recentSize entries the oldest goes. */
class Recent<V> {
  private readonly m = new Map<string, V>();
  get(k: string): V | undefined {
    return this.m.get(k);
  }
  add(k: string, v: V) {
    this.m.set(k, v);
    if (this.m.size > recentSize) this.m.delete(this.m.keys().next().value as string);
  }
}
