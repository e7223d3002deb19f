import type { RecordBundle } from "../envelope/bundle";
import { sha256Hex } from "../lib/crypto";
import { errorText, log } from "../lib/log";
import { retryDelaySeconds } from "./retry-delay";
import { resolveMessages } from "./resolve-messages";
import { writeBundles } from "./raw-writer";

export interface IngestConsumerEnv {
  DB: D1Database;
  RAW: R2Bucket;
  DEDUPE_RETENTION_HOURS?: string;
}

/**
 * The INGEST consumer, the only raw writer. Acks every message only after its records are in R2
 * and D1 knows; on any failure it acks nothing and retries the whole batch later, with jitter.
 */
export async function processIngestBatch(env: IngestConsumerEnv, batch: MessageBatch<unknown>): Promise<void> {
  const started = Date.now();
  try {
    const resolved = await resolveMessages(env.RAW, batch.messages);
    const bundles: RecordBundle[] = [];
    for (const r of resolved) {
      if (r.ok) bundles.push(r.bundle);
      else await quarantine(env.RAW, r.message, r.reason);
    }
    const summary = await writeBundles(env, bundles, {
      retentionHours: Number(env.DEDUPE_RETENTION_HOURS ?? "96"),
    });
    batch.ackAll();
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
    batch.retryAll({ delaySeconds });
  }
}

/**
 * A message that can never become a valid bundle is kept, as it came, under `quarantine/` and
 * acknowledged, so one bad producer cannot block the stream behind it.
 */
async function quarantine(raw: R2Bucket, message: Message<unknown>, reason: string): Promise<void> {
  const body = JSON.stringify({ id: message.id, timestamp: message.timestamp, reason, body: message.body });
  const key = `quarantine/ingest/${(await sha256Hex(body)).slice(0, 32)}.json`;
  await raw.put(key, body, { httpMetadata: { contentType: "application/json" } });
  log("error", { event: "raw.message_quarantined", error: reason, key });
}
