import { Hono } from "hono";
import * as z from "zod";
import { recordBundleSchema } from "../envelope/bundle";
import { errorText, log } from "../lib/log";
import { BodyTooLarge, readBodyLimited } from "../webhooks/read-body";
import { standardWebhooksScheme } from "../webhooks/schemes/standard-webhooks";
import { verifySignature } from "../webhooks/verify";
import { enqueueRecords, type IngestBindings } from "./enqueue";

export interface CdcEnv extends IngestBindings {
  CDC_INGEST_SECRET?: string;
  CDC_INGEST_SECRET_PREVIOUS?: string;
}

/** A sidecar delivery: bundles already shaped as INGEST messages (envelope lines with their ids). */
const deliverySchema = z.object({
  bundles: z.array(recordBundleSchema.extend({ pattern: z.enum(["cdc", "full_refresh", "poll", "file"]) })).max(10_000),
});

export const CDC_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * POST /ingest/cdc — the sidecar's door. Signed with the Standard Webhooks scheme and its own
 * secret; answers 2xx only once INGEST holds every bundle, which is what lets the sidecar confirm
 * the LSN to Postgres.
 */
export function cdcRoutes() {
  const app = new Hono<{ Bindings: CdcEnv }>();
  app.post("/ingest/cdc", async (c) => {
    const started = Date.now();
    const secrets = [c.env.CDC_INGEST_SECRET, c.env.CDC_INGEST_SECRET_PREVIOUS].filter((s): s is string => !!s);
    if (secrets.length === 0) return c.json({ error: "not found" }, 404);
    let body: Uint8Array;
    try {
      body = await readBodyLimited(c.req.raw, CDC_MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) return c.json({ error: `body larger than ${err.limit} bytes` }, 413);
      return c.json({ error: "could not read the body" }, 400);
    }
    const req = { method: "POST", url: c.req.url, headers: c.req.raw.headers, body };
    const ok = await verifySignature(standardWebhooksScheme, req, secrets, {
      nowSeconds: Math.floor(Date.now() / 1000),
      toleranceSeconds: 300,
    });
    if (!ok) return c.json({ error: "invalid signature" }, 401);

    let parsed: z.infer<typeof deliverySchema>;
    try {
      const result = deliverySchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
      if (!result.success) {
        const issue = result.error.issues[0];
        return c.json({ error: `invalid delivery at ${issue?.path.join(".")}: ${issue?.message}` }, 422);
      }
      parsed = result.data;
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }

    let records = 0;
    try {
      for (const { kind: _k, v: _v, records: list, ...head } of parsed.bundles) {
        records += (await enqueueRecords(c.env, head, list)).records;
      }
    } catch (err) {
      log("error", { event: "cdc.enqueue_failed", pattern: "cdc", error: errorText(err), ms: Date.now() - started });
      return c.json({ error: "could not queue the delivery; retry" }, 503, { "retry-after": "1" });
    }
    log("info", { event: "cdc.accepted", pattern: "cdc", source: parsed.bundles[0]?.source, records, ms: Date.now() - started });
    return c.json({ ok: true, records });
  });
  return app;
}
