import openapiFetch, { type Client } from "openapi-fetch";
import type { paths } from "./api.js";

/** A typed client of the server's REST API, made from its OpenAPI document (openapi.json). */
export type ConveyorClient = Client<paths>;

export interface ClientOptions {
  /** The server's URL (default: from CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT, else http://localhost:8080). */
  baseUrl?: string;
  /** The bearer token (default: CONVEYOR_TOKEN). */
  token?: string;
  /** A fetch to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
}

/**
 * createClient returns a client whose paths, parameters, bodies and answers
 * are typed from the OpenAPI document:
 *
 *     const api = createClient();
 *     const { data, error } = await api.GET("/runs/{id}", { params: { path: { id } } });
 *
 * An HTTPS server whose certificate the system does not trust: start node
 * with NODE_EXTRA_CA_CERTS=$CONVEYOR_CA_CERT (fetch takes no CA of its own).
 */
export function createClient(opts: ClientOptions = {}): ConveyorClient {
  const token = opts.token ?? process.env.CONVEYOR_TOKEN?.trim();
  return openapiFetch<paths>({
    baseUrl: opts.baseUrl ?? baseUrlFromEnv(),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    fetch: opts.fetch,
  });
}

/** baseUrlFromEnv builds the server's URL as the Go SDK's BaseURLFromEnv does. */
export function baseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  let host = env.CONVEYOR_SERVER_HOST || "localhost";
  const port = env.CONVEYOR_SERVER_PORT || "8080";
  let scheme = "http://";
  const i = host.indexOf("://");
  if (i >= 0) {
    scheme = host.slice(0, i + 3);
    host = host.slice(i + 3);
  }
  host = host.replace(/\/+$/, "");
  const hasPort = /:\d+$/.test(host) && !host.endsWith("]");
  return hasPort ? scheme + host : `${scheme}${host}:${port}`;
}
