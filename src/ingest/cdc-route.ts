import { Hono } from "hono";
import * as z from "zod";
import { recordBundleFastSchema, recordBundleSchema, snapshotManifestSchema } from "../envelope/bundle";
import { propertyArrayByteSpans } from "../envelope/json-byte-spans";
import { errorText, log } from "../lib/log";
import { enqueueManifest } from "../pollers/snapshot";
import type { SourceDefinition } from "../sources/define-source";
import type { CdcSourcesEnv } from "./cdc-sources";
import { deliveryRefusal } from "./delivery-checks";
import { enqueueGroups, type IngestBindings } from "./enqueue";
import { type SidecarSecrets, sidecarRefusal, signedJson } from "./signed-json";

export interface CdcEnv extends IngestBindings, SidecarSecrets, CdcSourcesEnv {}

/**
 * A sidecar delivery: bundles already shaped as INGEST messages (envelope lines with their ids),
 * and, when a full refresh has sent its last part, the snapshot's manifest (written by the raw
 * writer only once every part is in R2).
 */
const deliveryOf = <B extends typeof recordBundleSchema | typeof recordBundleFastSchema>(bundle: B) =>
  z.object({
    bundles: z.array(bundle.extend({ pattern: z.enum(["cdc", "full_refresh", "poll", "file"]) })).max(10_000),
    manifests: z.array(snapshotManifestSchema).max(100).optional(),
  });
const deliverySchema = deliveryOf(recordBundleSchema);
const deliveryFastSchema = deliveryOf(recordBundleFastSchema);

export const CDC_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * POST /ingest/cdc — the sidecar's door. Signed with the Standard Webhooks scheme and its own
 * secret; takes only the sources in CDC_SOURCES and lines whose `_dock.id` is their own
 * (delivery-checks.ts), all or nothing; answers 2xx only once INGEST holds every bundle, which is
 * what lets the sidecar confirm the LSN to Postgres. `find` names the registry's vendor sources,
 * which this door never writes.
 */
export function cdcRoutes(find: (name: string) => SourceDefinition | undefined) {
  const app = new Hono<{ Bindings: CdcEnv }>();
  app.post("/ingest/cdc", async (c) => {
    const started = Date.now();
    const gate = await signedJson(c.req.raw, c.env, deliverySchema, CDC_MAX_BODY_BYTES, "delivery", deliveryFastSchema);
    if (!gate.ok) return gate.response;
    const parsed = gate.data;
    const refused = deliveryRefusal(parsed, c.env, find);
    if (refused) return sidecarRefusal(c.req.raw, refused.status, refused.error);
    // Each bundle's own bytes go on as its message (gzip'd), rather than the parsed bundle serialised again.
    const spans = propertyArrayByteSpans(gate.body, "bundles");
    const asSent = spans?.length === parsed.bundles.length ? spans : null;

    let records = 0;
    try {
      records = (
        await enqueueGroups(
          c.env,
          parsed.bundles.map(({ kind: _k, v: _v, records: list, ...head }, i) => ({
            head,
            records: list,
            json: asSent ? gate.body.subarray(...(asSent[i] as [number, number])) : undefined,
          })),
        )
      ).records;
      for (const { kind: _k, v: _v, ...manifest } of parsed.manifests ?? [])
        await enqueueManifest(c.env.INGEST as Queue<unknown>, manifest);
    } catch (err) {
      log("error", { event: "cdc.enqueue_failed", pattern: "cdc", error: errorText(err), ms: Date.now() - started });
      return c.json({ error: "could not queue the delivery; retry" }, 503, { "retry-after": "1" });
    }
    log("info", { event: "cdc.accepted", pattern: "cdc", source: parsed.bundles[0]?.source, records, ms: Date.now() - started });
    return c.json({ ok: true, records });
  });
  return app;
}
