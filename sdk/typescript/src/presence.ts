import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { bestEffort, every } from "./repeat.js";
import { presenceSubject, type Announcement } from "./wire.js";

/** The period of presence announcements; the server forgets an instance 15 s after its last. */
export const presenceInterval = 5000;
/** The SDK's version, announced in presence. */
export const sdkVersion = "ts-0.1.0";

/**
 * announce publishes the process's presence now and every 5 s; the returned
 * function stops with a last one, `leaving: true`.
 */
export function announce(nc: NatsConnection, driver: string, resources: string[]): () => void {
  const a: Announcement = {
    driver, instance: instanceId(), resources, version: sdkVersion,
    host: hostname(), since: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
  const subject = presenceSubject(driver);
  const stop = every(presenceInterval, true, () => nc.publish(subject, JSON.stringify(a)));
  return () => {
    stop();
    bestEffort(() => nc.publish(subject, JSON.stringify({ ...a, leaving: true })));
  };
}

/** instanceId is 12 random characters of base32, unique to the process. */
function instanceId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...randomBytes(12)].map((b) => alphabet[b % 32]).join("");
}
