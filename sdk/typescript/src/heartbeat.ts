import type { NatsConnection } from "@nats-io/transport-node";
import { bestEffort, every } from "./repeat.js";
import { heartbeatSubject, type Heartbeat, type WorkMessage } from "./wire.js";

/** The period of a step's heartbeats; the server's lease is 4 s (docs/protocol.md#5-heartbeats-and-the-lease). */
export const heartbeatInterval = 1000;

/**
 * sendHeartbeats publishes the step's heartbeat now and every second; the
 * returned function stops them with a last one, `done: true`.
 */
export function sendHeartbeats(nc: NatsConnection, driver: string, work: WorkMessage): () => void {
  const beat: Heartbeat = { run_id: work.run_id, step: work.step ?? "", attempt: work.attempt ?? 0, driver };
  const subject = heartbeatSubject(driver);
  const stop = every(heartbeatInterval, true, () => nc.publish(subject, JSON.stringify(beat)));
  return () => {
    stop();
    bestEffort(() => nc.publish(subject, JSON.stringify({ ...beat, done: true })));
  };
}
