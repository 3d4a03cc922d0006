import type { NatsConnection } from "@nats-io/transport-node";
import { errorMessage } from "./repeat.js";
import { secretsSubject, type SecretsReply, type WorkMessage } from "./wire.js";

/**
 * fetchSecrets asks the server for the values of the secrets the step is
 * granted (docs/protocol.md#9-secrets), waiting 10 s for the answer; the
 * server's error is thrown, and fails the step.
 */
export async function fetchSecrets(nc: NatsConnection, driver: string, work: WorkMessage): Promise<Record<string, string>> {
  const body = JSON.stringify({ run_id: work.run_id, step: work.step, attempt: work.attempt });
  let answer: SecretsReply;
  try {
    const reply = await nc.request(secretsSubject(driver), body, { timeout: 10_000 });
    answer = reply.json<SecretsReply>();
  } catch (err) {
    throw new Error(`ask the server for the step's secrets: ${errorMessage(err)}`);
  }
  if (answer.error) throw new Error(answer.error);
  return answer.secrets ?? {};
}
