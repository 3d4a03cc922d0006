// The messages and subjects of the driver protocol (docs/protocol.md; the
// JSON Schemas in sdk/protocol/). Names are exact: they are the wire.

/** The stream that carries work; the driver's durable consumer is on it. */
export const messagesStream = "messages";

export const consumerRequestSubject = (driver: string) => `conveyor.drivers.${driver}.consumer`;
export const resultSubject = (driver: string) => `pipelines.driver.result.${driver}`;
export const heartbeatSubject = (driver: string) => `conveyor.heartbeats.${driver}`;
export const stopSubject = (driver: string) => `conveyor.drivers.${driver}.stop`;
export const presenceSubject = (driver: string) => `conveyor.presence.${driver}`;
export const secretsSubject = (driver: string) => `conveyor.secrets.${driver}`;
export const logSubject = (runId: string) => `logs.${runId}`;
/** With credentials, a driver may read replies only under its own inbox. */
export const driverInbox = (driver: string) => `_INBOX.${driver}`;

/** Names of drivers and resource types: `^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$`. */
export const validName = (s: string) => typeof s === "string" && /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(s);

/** consumer-request.schema.json */
export interface ConsumerRequest {
  resources: string[];
  /** The process's labels; this SDK declares none, so it takes the steps without runsOn. */
  labels?: string[];
  ackWaitMs: number;
  maxAckPending: number;
}

/** consumer-reply.schema.json */
export interface ConsumerReply {
  ok: boolean;
  error?: string;
}

/** A resource as the work carries it (resource.schema.json). */
export interface Resource {
  id: string;
  name: string;
  resource: string;
  pipeline?: string;
  metadata?: Record<string, string>;
  spec?: unknown;
  [field: string]: unknown;
}

/** work.schema.json; payload is the resource as a JSON string. */
export interface WorkMessage {
  event: string;
  payload: string;
  id: string;
  run_id: string;
  step?: string;
  attempt?: number;
  secrets?: string[];
  with?: Record<string, unknown>;
}

/** heartbeat.schema.json */
export interface Heartbeat {
  run_id: string;
  step: string;
  attempt: number;
  driver: string;
  done?: boolean;
}

/** stop.schema.json */
export interface StopNotice {
  run_id: string;
  step: string;
  attempt: number;
  reason: string;
}

/** result.schema.json */
export interface ResultMessage {
  event: "driver.result";
  run_id: string;
  step?: string;
  resource: Resource;
  driverresult: { success: boolean; message: string; data: Record<string, unknown>; driver: string };
}

/** log-line.schema.json */
export interface LogLine {
  runid: string;
  driver: string;
  pipeline: string;
  timestamp: string;
  message: string;
  labels: Record<string, string>;
  time: string;
  step?: string;
  attempt?: number;
}

/** presence.schema.json */
export interface Announcement {
  driver: string;
  instance: string;
  resources: string[];
  labels?: string[];
  version?: string;
  host?: string;
  since: string;
  leaving?: boolean;
}

/** secrets-reply.schema.json */
export interface SecretsReply {
  secrets?: Record<string, string>;
  error?: string;
}

/**
 * The idempotency key of a step's work, `{run_id}.{step}.{attempt}`; a
 * fan-out's key is its message id.
 */
export function idempotencyKey(w: WorkMessage): string {
  return w.run_id && w.step ? attemptKey(w.run_id, w.step, w.attempt ?? 0) : w.id;
}

export const attemptKey = (runId: string, step: string, attempt: number) => `${runId}.${step}.${attempt}`;

/** decodeWork reads a work message and its resource (the payload is JSON twice). */
export function decodeWork(data: Uint8Array): { work: WorkMessage; resource: Resource } {
  const work = JSON.parse(new TextDecoder().decode(data)) as WorkMessage;
  if (typeof work !== "object" || work === null || typeof work.payload !== "string") {
    throw new Error("not a work message: no payload string");
  }
  const resource = JSON.parse(work.payload) as Resource;
  if (typeof resource !== "object" || resource === null) {
    throw new Error("payload is not a resource");
  }
  return { work, resource };
}
