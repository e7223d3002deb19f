import {
  type BlobPointer,
  type BundleHeader,
  type BundleRecord,
  type IngestMessage,
  MESSAGE_BYTES,
  packBundles,
  SEND_BATCH_BYTES,
  SEND_BATCH_MESSAGES,
  utf8Bytes,
} from "../envelope/bundle";
import { GZIP_FROM_BYTES, packMessage } from "../envelope/message-body";
import { blobKey } from "../envelope/raw-keys";
import { sha256Hex } from "../lib/crypto";

export interface IngestBindings {
  INGEST: Queue<IngestMessage | Uint8Array>;
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
 * A bundle of GZIP_FROM_BYTES of JSON or more travels gzip'd (message-body.ts).
 */
export async function enqueueRecords(env: IngestBindings, head: BundleHeader, records: BundleRecord[]): Promise<EnqueueResult> {
  return enqueueGroups(env, [{ head, records }]);
}

/**
 * `enqueueRecords` for several heads at once (a sidecar delivery), their messages sent together.
 * A group may come with `json`: the bytes of the bundle `{kind, v, ...head, records}` as a checked
 * request carried it; when that fits a message it is sent gzip'd as it is, not serialised again
 * (the consumer checks every message it unpacks either way).
 */
export async function enqueueGroups(
  env: IngestBindings,
  groups: { head: BundleHeader; records: BundleRecord[]; json?: Uint8Array }[],
): Promise<EnqueueResult> {
  const messages: Sized[] = [];
  let records = 0;
  let blobs = 0;
  for (const { head, records: list, json: given } of groups) {
    if (list.length === 0) continue;
    records += list.length;
    const whole: IngestMessage = { kind: "bundle", v: 1, ...head, records: list };
    if (given && given.byteLength <= MESSAGE_BYTES) {
      messages.push(encoded(whole, given));
      continue;
    }
    // Most lists (a webhook, a sidecar bundle, a poll page) fit one message: sized once, not per record.
    const json = JSON.stringify(whole);
    const size = utf8Bytes(json);
    if (size <= MESSAGE_BYTES) {
      messages.push(encoded(whole, json, size));
      continue;
    }
    const { bundles, oversized } = packBundles(head, list);
    for (const body of bundles) messages.push(encoded(body));
    for (const bundle of oversized) {
      const pointer = await claimCheck(env.RAW, bundle);
      messages.push(encoded(pointer));
    }
    blobs += oversized.length;
  }
  await sendAll(env.INGEST, messages);
  return { messages: messages.length, records, blobs };
}

export interface Sized<B = IngestMessage | Uint8Array> {
  body: B;
  /** Bytes on the queue. */
  size: number;
  contentType: "json" | "bytes";
}

/**
 * An INGEST message as it goes on the queue: the body as it is when its JSON is small, that JSON
 * gzip'd from GZIP_FROM_BYTES. `json` may be the UTF-8 bytes the body was parsed from.
 */
export function encoded<B>(
  body: B,
  json: string | Uint8Array = JSON.stringify(body),
  size = typeof json === "string" ? utf8Bytes(json) : json.byteLength,
): Sized<B | Uint8Array> {
  if (size < GZIP_FROM_BYTES) return { body, size, contentType: "json" };
  const packed = packMessage(json);
  return { body: packed, size: packed.byteLength, contentType: "bytes" };
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
async function sendAll(queue: Queue<IngestMessage | Uint8Array>, messages: Sized[]): Promise<void> {
  // One message (a webhook, most sidecar deliveries) goes by send(): measured in workerd, cheaper than a batch of one.
  const [only] = messages;
  if (messages.length === 1 && only) {
    await queue.send(only.body, { contentType: only.contentType });
    return;
  }
  await Promise.all(sendBatchCuts(messages).map((cut) => queue.sendBatch(cut.map(({ body, contentType }) => ({ body, contentType })))));
}

/** The list cut in order into pieces a sendBatch takes: at most 100 messages and SEND_BATCH_BYTES each. */
export function sendBatchCuts<T extends { size: number }>(messages: readonly T[]): T[][] {
  const cuts: T[][] = [];
  let cut: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (cut.length > 0 && (cut.length >= SEND_BATCH_MESSAGES || bytes + m.size > SEND_BATCH_BYTES)) {
      cuts.push(cut);
      cut = [];
      bytes = 0;
    }
    cut.push(m);
    bytes += m.size;
  }
  if (cut.length > 0) cuts.push(cut);
  return cuts;
}
