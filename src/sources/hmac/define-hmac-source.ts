import * as z from "zod";
import type { HashName } from "../../lib/crypto";
import { concatBytes } from "../../webhooks/verify";
import type { HmacScheme, WebhookInput, WebhookRecord, WebhookRequest } from "../../webhooks/types";
import { defineSource } from "../define-source";
import { hmacReconcile } from "./reconcile";

/**
 * A one-off sender that signs its webhooks with an HMAC, described by configuration:
 * which header, which hash, which encoding, and what is signed.
 */
export const hmacSourceConfig = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  title: z.string().optional(),
  /** Header holding the signature, e.g. `X-Acme-Signature`. */
  header: z.string().min(1),
  hash: z.enum(["SHA-1", "SHA-256", "SHA-512"]).default("SHA-256"),
  encoding: z.enum(["hex", "base64"]).default("hex"),
  /** Text before the signature in the header, e.g. `sha256=`. */
  prefix: z.string().default(""),
  /** What is signed: the raw body, or `<timestamp>.<body>` with the timestamp from `timestampHeader`. */
  signed: z.enum(["body", "timestamp.body"]).default("body"),
  timestampHeader: z.string().optional(),
  /** Where the event id is: a header, or a top-level JSON field; else the body's sha256. */
  idHeader: z.string().optional(),
  idField: z.string().optional(),
  stream: z.string().default("events"),
  toleranceSeconds: z.number().int().positive().default(300),
});
export type HmacSourceConfig = z.input<typeof hmacSourceConfig>;

function schemeFor(config: z.output<typeof hmacSourceConfig>): HmacScheme {
  return {
    kind: "hmac",
    hash: config.hash as HashName,
    encoding: config.encoding,
    parse(req: WebhookRequest) {
      const value = req.headers.get(config.header);
      if (!value?.startsWith(config.prefix) || value.includes(",")) return null;
      const signature = value.slice(config.prefix.length);
      if (config.signed === "body") return { signatures: [signature] };
      const ts = req.headers.get(config.timestampHeader ?? "");
      if (!ts || !/^\d{1,12}$/.test(ts)) return null;
      return { signatures: [signature], timestamp: Number(ts), rawTimestamp: ts };
    },
    message: (req, parsed) => (config.signed === "body" ? req.body : concatBytes(`${parsed.rawTimestamp as string}.`, req.body)),
  };
}

function recordsFor(config: z.output<typeof hmacSourceConfig>) {
  return (input: WebhookInput): WebhookRecord[] => {
    const fromField = config.idField ? (input.json as Record<string, unknown> | null)?.[config.idField] : undefined;
    const id =
      (config.idHeader ? input.headers.get(config.idHeader) : null) ??
      (typeof fromField === "string" || typeof fromField === "number" ? String(fromField) : null);
    if (!id) throw new Error("no event id in the request");
    return [{ stream: config.stream, key: id, version: id, op: "event", eventId: id }];
  };
}

export function hmacSource(input: HmacSourceConfig) {
  const config = hmacSourceConfig.parse(input);
  if (config.signed === "timestamp.body" && !config.timestampHeader) {
    throw new Error(`${config.name}: signed "timestamp.body" needs timestampHeader`);
  }
  return defineSource({
    name: config.name,
    title: config.title ?? config.name,
    webhook: {
      scheme: schemeFor(config),
      toleranceSeconds: config.toleranceSeconds,
      records: recordsFor(config),
    },
    reconcile: hmacReconcile,
  });
}
