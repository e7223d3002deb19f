import {
  type BlobPointer,
  type BundleHeader,
  type BundleRecord,
  type IngestMessage,
  jsonBytes,
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
  if (records.length === 0) return { messages: 0, records: 0, blobs: 0 };
  const { bundles, oversized } = packBundles(head, records);
  const messages: IngestMessage[] = [...bundles];
  for (const bundle of oversized) messages.push(await claimCheck(env.RAW, bundle));
  await sendAll(env.INGEST, messages);
  return { messages: messages.length, records: records.length, blobs: oversized.length };
}

async function claimCheck(bucket: R2Bucket, bundle: IngestMessage & { kind: "bundle" }): Promise<BlobPointer> {
  const body = JSON.stringify(bundle);
  const sha = await sha256Hex(body);
  const key = blobKey(sha);
  await bucket.put(key, body, { httpMetadata: { contentType: "application/json" } });
  const { records, kind: _kind, ...head } = bundle;
  return { ...head, kind: "blob", key, records: records.length, bytes: body.length };
}

/** sendBatch takes at most 100 messages and 256 KB: cut the list to fit both. */
export async function sendAll(queue: Queue<IngestMessage>, messages: IngestMessage[]): Promise<void> {
  let chunk: MessageSendRequest<IngestMessage>[] = [];
  let bytes = 0;
  for (const body of messages) {
    const size = jsonBytes(body);
    if (chunk.length > 0 && (chunk.length >= SEND_BATCH_MESSAGES || bytes + size > SEND_BATCH_BYTES)) {
      await queue.sendBatch(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ body, contentType: "json" });
    bytes += size;
  }
  if (chunk.length > 0) await queue.sendBatch(chunk);
}
