import {
  type BlobPointer,
  type BundleHeader,
  type BundleRecord,
  type IngestMessage,
  jsonBytes,
  MESSAGE_BYTES,
  packBundles,
  SEND_BATCH_BYTES,
  SEND_BATCH_MESSAGES,
} from "../envelope/bundle";
import { blobKey } from "../envelope/raw-keys";
import { sha256Hex } from "../lib/crypto";

export interface IngestBindings {
  INGEST: Queue<IngestMessage>;
  RAW: R2Bucket;
}

export interface EnqueueResult {
  messages: number;
  records: number;
  blobs: number;
}

/**
 * Puts records on INGEST as bundles. Resolves only once the queue has accepted every message;
 * a rejected send throws, so the caller never acknowledges what is not durable.
 * A record too big for a message is claim-checked: its bundle goes to `blobs/<sha256>` first
 * (content-addressed, so a retry writes the same object) and a pointer travels instead.
 */
export async function enqueueRecords(env: IngestBindings, head: BundleHeader, records: BundleRecord[]): Promise<EnqueueResult> {
  return enqueueGroups(env, [{ head, records }]);
}

/** `enqueueRecords` for several heads at once (a sidecar delivery), their messages sent together. */
export async function enqueueGroups(
  env: IngestBindings,
  groups: { head: BundleHeader; records: BundleRecord[] }[],
): Promise<EnqueueResult> {
  const messages: Sized[] = [];
  let records = 0;
  let blobs = 0;
  for (const { head, records: list } of groups) {
    if (list.length === 0) continue;
    records += list.length;
    // Most lists (a webhook, a sidecar bundle, a poll page) fit one message: sized once, not per record.
    const whole: IngestMessage = { kind: "bundle", v: 1, ...head, records: list };
    const size = jsonBytes(whole);
    if (size <= MESSAGE_BYTES) {
      messages.push({ body: whole, size });
      continue;
    }
    const { bundles, oversized } = packBundles(head, list);
    for (const body of bundles) messages.push({ body, size: jsonBytes(body) });
    for (const bundle of oversized) {
      const pointer = await claimCheck(env.RAW, bundle);
      messages.push({ body: pointer, size: jsonBytes(pointer) });
    }
    blobs += oversized.length;
  }
  await sendAll(env.INGEST, messages);
  return { messages: messages.length, records, blobs };
}

interface Sized {
  body: IngestMessage;
  size: number;
}

async function claimCheck(bucket: R2Bucket, bundle: IngestMessage & { kind: "bundle" }): Promise<BlobPointer> {
  const body = JSON.stringify(bundle);
  const sha = await sha256Hex(body);
  const key = blobKey(sha);
  await bucket.put(key, body, { httpMetadata: { contentType: "application/json" } });
  const { records, kind: _kind, ...head } = bundle;
  return { ...head, kind: "blob", key, records: records.length, bytes: body.length };
}

/** sendBatch takes at most 100 messages and 256 KB: cut the list to fit both, and send the cuts at once. */
async function sendAll(queue: Queue<IngestMessage>, messages: Sized[]): Promise<void> {
  const chunks: MessageSendRequest<IngestMessage>[][] = [];
  let chunk: MessageSendRequest<IngestMessage>[] = [];
  let bytes = 0;
  for (const { body, size } of messages) {
    if (chunk.length > 0 && (chunk.length >= SEND_BATCH_MESSAGES || bytes + size > SEND_BATCH_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ body, contentType: "json" });
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  await Promise.all(chunks.map((c) => queue.sendBatch(c)));
}
