import type { NatsConnection } from "@nats-io/transport-node";
import { consumerRequestSubject, type ConsumerReply, type ConsumerRequest } from "./wire.js";

/** RefusedError is the server's final no to the consumer request: do not ask again. */
export class RefusedError extends Error {}

/**
 * askConsumer asks the server to create or update the driver's durable
 * consumer (docs/protocol.md#2-the-consumer). A timeout or "no responders"
 * is thrown as it comes, to be tried again; a refusal is a RefusedError.
 */
export async function askConsumer(nc: NatsConnection, driver: string, resources: string[], ackWaitMs: number, concurrency: number): Promise<true> {
  const req: ConsumerRequest = { resources, ackWaitMs, maxAckPending: Math.max(1000, 4 * concurrency) };
  const reply = await nc.request(consumerRequestSubject(driver), JSON.stringify(req), { timeout: 5000 });
  const answer = reply.json<ConsumerReply>();
  if (!answer.ok) throw new RefusedError(`the server refused the consumer: ${answer.error ?? "no reason given"}`);
  return true;
}
