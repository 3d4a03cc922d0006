// Writes openapi.json, the server's OpenAPI document, from a server started
// from the binary (CONVEYOR_BIN, default ../../bin/conveyor); `npm run build`
// makes src/api.ts of it. Run it when the API changes: npm run gen.
import { writeFile } from "node:fs/promises";
import { startServer } from "../test/harness.mjs";

const server = await startServer();
try {
  const res = await fetch(`${server.api}/openapi.json`);
  if (!res.ok) throw new Error(`GET /openapi.json: ${res.status}`);
  const doc = await res.json();
  await writeFile(new URL("../openapi.json", import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`openapi.json: ${Object.keys(doc.paths).length} paths`);
} finally {
  await server.close();
}
