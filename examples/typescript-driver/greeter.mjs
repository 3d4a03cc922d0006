// A driver in TypeScript's runtime: it greets the resource a step names, in
// the language of the step's with.language. Build the sdk first
// (cd sdk/typescript && npm ci && npm run build), then here: npm install,
// CONVEYOR_NATS_URL=$(../../bin/conveyor drivers credentials greeter) npm start
import { setTimeout as sleep } from "node:timers/promises";
import { Driver } from "@conveyor/sdk";

const greetings = { en: "hello", fr: "bonjour", de: "hallo" };

const driver = new Driver({ name: "greeter", resources: ["source"], concurrency: 4 }, async (req, { signal, log }) => {
  const greeting = greetings[req.with.language ?? "en"];
  if (!greeting) throw new Error(`no greeting in ${req.with.language}`); // a failed step, with this message
  log.info(`greeting ${req.resource.name} (attempt ${req.attempt})`);
  await sleep(500, undefined, { signal }); // the work; a cancel of the run ends it early
  return { success: true, message: `${greeting}, ${req.resource.name}`, data: { greeting } };
});
await driver.run(); // until SIGINT or SIGTERM; running work gets 30 s to finish
