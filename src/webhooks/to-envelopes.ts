import type { BundleRecord } from "../envelope/bundle";
import { dockId, dockIdSync } from "../envelope/dock-id";
import { type DockMeta, envelopeLine, type Payload, type Pattern } from "../envelope/envelope";
import { sha256Hex } from "../lib/crypto";
import type { WebhookRecord } from "./types";

/** Where a signed body that we cannot read as the vendor's events is kept, whole and as it came. */
export const UNPARSED_STREAM = "_unparsed";

export interface EnvelopeContext {
  source: string;
  pattern: Pattern;
  receivedAt: string;
  runId: string;
}

/** Turns the records found in a body into envelope lines, grouped by stream (bundles are per stream). */
export async function recordsToEnvelopes(
  ctx: EnvelopeContext,
  records: readonly WebhookRecord[],
  text: string,
): Promise<Map<string, BundleRecord[]>> {
  const byStream = new Map<string, BundleRecord[]>();
  for (const r of records) {
    const id = dockIdSync(ctx.source, r.stream, r.key, r.version);
    const payload: Payload = r.payload ?? { json: r.span ? text.slice(r.span[0], r.span[1]) : text };
    const meta: DockMeta = {
      id,
      source: ctx.source,
      stream: r.stream,
      pattern: ctx.pattern,
      key: r.key,
      version: r.version,
      op: r.op,
      received_at: ctx.receivedAt,
      run_id: ctx.runId,
    };
    const list = byStream.get(r.stream) ?? [];
    list.push({ id, line: envelopeLine(meta, payload), receipt: r.eventId });
    byStream.set(r.stream, list);
  }
  return byStream;
}

/** A verified body that is not what the source expects: one record holding it all, with the reason. */
export async function unparsedEnvelope(ctx: EnvelopeContext, body: Uint8Array, payload: Payload, reason: string): Promise<BundleRecord> {
  const hash = await sha256Hex(body);
  const id = await dockId(ctx.source, UNPARSED_STREAM, hash, hash);
  const meta: DockMeta = {
    id,
    source: ctx.source,
    stream: UNPARSED_STREAM,
    pattern: ctx.pattern,
    key: hash,
    version: hash,
    op: "event",
    received_at: ctx.receivedAt,
    run_id: ctx.runId,
    error: reason,
  };
  return { id, line: envelopeLine(meta, payload) };
}
