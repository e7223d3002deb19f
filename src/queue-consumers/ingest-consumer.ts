import { type RecordBundle, snapshotManifestSchema } from "../envelope/bundle";
import { storableBody } from "../envelope/message-body";
import { sha256Hex } from "../lib/crypto";
import { errorText, log } from "../lib/log";
import { retryDelaySeconds } from "./retry-delay";
import { resolveMessages } from "./resolve-messages";
import type { LedgerEnv } from "../ledger";
import { writeBundles } from "./raw-writer";
import { writeSnapshotManifest } from "./snapshot-manifest";
import { receiptsKeptFrom, trackedObjectsFrom } from "../reconcile/objects";
import { sources } from "../sources/registry";

/** Sources whose object streams keep a high-water mark (record-level reconciliation). */
const tracked = trackedObjectsFrom(sources);
/** Sources whose receipts an event-level reconcile reads. */
const keepsReceipts = receiptsKeptFrom(sources);

export interface IngestConsumerEnv extends LedgerEnv {
  RAW: R2Bucket;
  DEDUPE_RETENTION_HOURS?: string;
}

/**
 * The INGEST consumer, the only raw writer. Acks every message only after its records are in R2
 * and the ledger and D1 know; on any failure it acks nothing and retries the whole batch later, with jitter.
 */
export async function processIngestBatch(env: IngestConsumerEnv, batch: MessageBatch<unknown>): Promise<void> {
  const started = Date.now();
  const manifests = batch.messages.filter((m) => (m.body as { kind?: unknown } | null)?.kind === "manifest");
  const messages = manifests.length === 0 ? batch.messages : batch.messages.filter((m) => !manifests.includes(m));
  try {
    const resolved = await resolveMessages(env.RAW, messages);
    const bundles: RecordBundle[] = [];
    for (const r of resolved) {
      if (r.ok) bundles.push(r.bundle);
      else await quarantine(env.RAW, r.message, r.reason);
    }
    const summary = await writeBundles(env, bundles, {
      retentionHours: Number(env.DEDUPE_RETENTION_HOURS ?? "96"),
      tracked,
      keepsReceipts,
    });
    if (manifests.length === 0) batch.ackAll();
    else for (const m of messages) m.ack();
    for (const o of summary.objects) {
      log("info", {
        event: "raw.written",
        source: o.source,
        stream: o.stream,
        pattern: o.pattern,
        records: o.records,
        bytes: o.bytes,
        key: o.key,
        ms: Date.now() - started,
      });
    }
    if (summary.duplicates > 0) log("info", { event: "raw.duplicates_dropped", records: summary.duplicates });
  } catch (err) {
    const attempts = Math.max(...batch.messages.map((m) => m.attempts), 1);
    const delaySeconds = retryDelaySeconds(attempts);
    log("error", {
      event: "raw.batch_failed",
      records: batch.messages.length,
      error: errorText(err),
      attempts,
      retry_in_s: delaySeconds,
      ms: Date.now() - started,
    });
    if (manifests.length === 0) batch.retryAll({ delaySeconds });
    else for (const m of messages) m.retry({ delaySeconds });
  }
  // After the bundles of this batch: a snapshot's parts may be among them.
  for (const m of manifests) await handleManifest(env, m);
}

/** A snapshot manifest waits (by retrying its message) until every part of the snapshot is in R2. */
async function handleManifest(env: IngestConsumerEnv, message: Message<unknown>): Promise<void> {
  const parsed = snapshotManifestSchema.safeParse(message.body);
  if (!parsed.success) {
    await quarantine(env.RAW, message, parsed.error.issues[0]?.message ?? "invalid manifest message");
    message.ack();
    return;
  }
  const m = parsed.data;
  const fields = { source: m.source, stream: m.stream, pattern: "full_refresh", run_id: m.run_id };
  try {
    const outcome = await writeSnapshotManifest(env, m);
    if (outcome.missing.length > 0) {
      const delaySeconds = retryDelaySeconds(message.attempts, Math.random, 60);
      log("warn", { event: "raw.manifest_waiting", ...fields, missing: outcome.missing.slice(0, 10).join(","), retry_in_s: delaySeconds });
      message.retry({ delaySeconds });
      return;
    }
    if (outcome.written) log("info", { event: "raw.manifest_written", ...fields, records: outcome.rows ?? 0 });
    message.ack();
  } catch (err) {
    log("error", { event: "raw.manifest_failed", ...fields, error: errorText(err) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/**
 * A message that can never become a valid bundle is kept, as it came, under `quarantine/` and
 * acknowledged, so one bad producer cannot block the stream behind it.
 */
async function quarantine(raw: R2Bucket, message: Message<unknown>, reason: string): Promise<void> {
  const body = JSON.stringify({ id: message.id, timestamp: message.timestamp, reason, body: storableBody(message.body) });
  const key = `quarantine/ingest/${(await sha256Hex(body)).slice(0, 32)}.json`;
  await raw.put(key, body, { httpMetadata: { contentType: "application/json" } });
  log("error", { event: "raw.message_quarantined", error: reason, key });
}
