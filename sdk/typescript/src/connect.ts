import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "@nats-io/transport-node";
import { driverInbox } from "./wire.js";

/** Where a driver finds NATS (docs/protocol.md#1-connecting). */
export const defaultNatsUrl = "nats://127.0.0.1:4222";

export interface ConnectSettings {
  /** The NATS URL, credentials included: CONVEYOR_NATS_URL. */
  natsUrl?: string;
  /** A token to send when the URL carries none: CONVEYOR_TOKEN. */
  token?: string;
  /** A PEM file of the CA that signed the server's certificate: CONVEYOR_CA_CERT. */
  caCert?: string;
}

/** settingsFromEnv reads CONVEYOR_NATS_URL, CONVEYOR_TOKEN and CONVEYOR_CA_CERT. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectSettings {
  return { natsUrl: env.CONVEYOR_NATS_URL, token: env.CONVEYOR_TOKEN?.trim(), caCert: env.CONVEYOR_CA_CERT };
}

/**
 * connectionOptions turns the settings into the NATS client's options. The
 * part of the URL before "@" is a token (a user without a password), or a
 * user and password when it has a ":"; the client is given it apart and the
 * URL without it. Replies go to the driver's own inbox, `_INBOX.{driver}`,
 * the only one its credentials may read.
 */
export function connectionOptions(driver: string, s: ConnectSettings): ConnectionOptions {
  const raw = s.natsUrl || defaultNatsUrl;
  const opts: ConnectionOptions = { inboxPrefix: driverInbox(driver), name: driver };
  const servers: string[] = [];
  let tls = false;
  for (const one of raw.split(",").map((u) => u.trim()).filter(Boolean)) {
    const u = new URL(one.includes("://") ? one : `nats://${one}`);
    if (u.username && !opts.token && !opts.user) {
      if (u.password) {
        opts.user = decodeURIComponent(u.username);
        opts.pass = decodeURIComponent(u.password);
      } else {
        opts.token = decodeURIComponent(u.username);
      }
    }
    tls ||= u.protocol === "tls:";
    servers.push(`${u.hostname.includes(":") ? `[${u.hostname}]` : u.hostname}:${u.port || "4222"}`);
  }
  opts.servers = servers;
  if (!opts.token && !opts.user && s.token) {
    opts.token = s.token;
  }
  if (s.caCert) {
    opts.tls = { ca: readFileSync(s.caCert, "utf8") };
  } else if (tls) {
    opts.tls = {};
  }
  return opts;
}

/** redactUrl hides what authenticates in a NATS URL, for logs. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/g, "//xxxxx@");
}
