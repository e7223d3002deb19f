import * as z from "zod";
import { PATTERNS } from "./envelope";
import { isSafeSegment } from "./raw-keys";

/**
 * One INGEST message: envelopes of one source and stream, or a pointer to such a bundle in
 * `blobs/` when a single envelope is larger than a queue message allows.
 */
export interface BundleRecord {
  /** `_dock.id` of the line, repeated here so the writer need not parse the line. */
  id: string;
  /** The whole envelope, one JSON line without the trailing newline. */
  line: string;
  /** For webhook and reconcile records: the vendor's event id, kept as a receipt. */
  receipt?: string;
}

export interface BundleHeader {
  source: string;
  stream: string;
  pattern: (typeof PATTERNS)[number];
  received_at: string;
  run_id?: string;
  /**
   * `record` (default): one dedupe key per record. `bundle`: one key per bundle, for high-volume
   * paths (CDC) whose repeats come back in whole bundles and where a key per record would make D1
   * the bottleneck; the repeats that slip through are removed downstream by `_dock.id`.
   */
  dedupe?: "record" | "bundle";
  /** Snapshot parts go to `snapshot=<run>/part-<n>` instead of the hourly partition. */
  snapshot?: { run_id: string; part: number };
}

export interface RecordBundle extends BundleHeader {
  kind: "bundle";
  v: 1;
  records: BundleRecord[];
}

export interface BlobPointer extends BundleHeader {
  kind: "blob";
  v: 1;
  key: string;
  records: number;
  bytes: number;
}

export type IngestMessage = RecordBundle | BlobPointer;

const name = z.string().refine(isSafeSegment, "must be letters, digits, _ . - and not ..");
const header = {
  v: z.literal(1),
  source: name,
  stream: name,
  pattern: z.enum(PATTERNS),
  received_at: z.string().min(1).max(64),
  run_id: z.string().max(128).optional(),
  dedupe: z.enum(["record", "bundle"]).optional(),
  snapshot: z.object({ run_id: name, part: z.number().int().nonnegative() }).optional(),
};
export const bundleRecordSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  line: z.string().min(2),
  receipt: z.string().max(512).optional(),
});
export const recordBundleSchema = z.object({ kind: z.literal("bundle"), ...header, records: z.array(bundleRecordSchema) });
const blobPointerSchema = z.object({
  kind: z.literal("blob"),
  ...header,
  key: z.string().regex(/^blobs\/[0-9a-f]{64}$/),
  records: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
});
export const ingestMessageSchema = z.discriminatedUnion("kind", [recordBundleSchema, blobPointerSchema]);

const HEX_ONLY = /^[0-9a-f]*$/;
/**
 * `bundleRecordSchema` for a whole list, without zod's per-record object copy (a sidecar delivery
 * holds thousands of records, and the copy was most of the time spent checking them). Accepts only
 * records that schema accepts unchanged; anything else (including extra keys, which zod strips)
 * answers false, and the caller asks zod for the verdict and the exact error.
 */
export function isPlainRecordList(list: unknown): list is BundleRecord[] {
  if (!Array.isArray(list)) return false;
  // Every id is 32 characters; all of them together are then checked for hex in one pass.
  let ids = "";
  for (const r of list as unknown[]) {
    if (typeof r !== "object" || r === null || Array.isArray(r)) return false;
    const { id, line, receipt } = r as Record<string, unknown>;
    if (typeof id !== "string" || id.length !== 32) return false;
    ids += id;
    if (typeof line !== "string" || line.length < 2) return false;
    let keys = 2;
    if (receipt !== undefined) {
      if (typeof receipt !== "string" || receipt.length > 512) return false;
      keys++;
    }
    if (Object.keys(r).length !== keys) return false;
  }
  return HEX_ONLY.test(ids);
}

const PATTERN_SET: ReadonlySet<unknown> = new Set(PATTERNS);
const isName = (v: unknown): boolean => typeof v === "string" && isSafeSegment(v);

/**
 * The value itself when it is a record bundle `recordBundleSchema` accepts unchanged (no key it
 * would strip, plain records), or null, and the caller asks zod. A consumer batch is up to a hundred
 * webhook messages of one record each; for those zod's object parse of the header was the largest
 * JS cost per message.
 */
export function asPlainRecordBundle(value: unknown): RecordBundle | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const b = value as Record<string, unknown>;
  if (b.kind !== "bundle" || b.v !== 1 || !isName(b.source) || !isName(b.stream) || !PATTERN_SET.has(b.pattern)) return null;
  const at = b.received_at;
  if (typeof at !== "string" || at.length < 1 || at.length > 64) return null;
  let keys = 7;
  if ("run_id" in b) {
    if (typeof b.run_id !== "string" || b.run_id.length > 128) return null;
    keys++;
  }
  if ("dedupe" in b) {
    if (b.dedupe !== "record" && b.dedupe !== "bundle") return null;
    keys++;
  }
  if ("snapshot" in b) {
    const s = b.snapshot as Record<string, unknown> | null;
    if (typeof s !== "object" || s === null || Array.isArray(s) || Object.keys(s).length !== 2) return null;
    if (!isName(s.run_id) || !Number.isSafeInteger(s.part) || (s.part as number) < 0) return null;
    keys++;
  }
  if (Object.keys(b).length !== keys || !isPlainRecordList(b.records)) return null;
  return value as RecordBundle;
}

const plainRecords = z.custom<BundleRecord[]>(isPlainRecordList);
/** The fast twins of the schemas above: the same verdict on plain records, no copy of them. */
export const recordBundleFastSchema = recordBundleSchema.extend({ records: plainRecords });
export const ingestMessageFastSchema = z.discriminatedUnion("kind", [recordBundleFastSchema, blobPointerSchema]);

/**
 * Parses with the fast schema and, only when it refuses, with the full one: for the exact error,
 * or for the result when the full schema accepts what the fast one would not (it strips extra keys).
 */
export function safeParseFast<T>(fast: z.ZodType<T>, full: z.ZodType<T>, value: unknown): z.ZodSafeParseResult<T> {
  const quick = fast.safeParse(value);
  return quick.success ? quick : full.safeParse(value);
}

/** Queue limits: 128 KB a message, 256 KB and 100 messages a sendBatch. We keep headroom under each. */
export const MESSAGE_BYTES = 120_000;
export const SEND_BATCH_BYTES = 240_000;
export const SEND_BATCH_MESSAGES = 100;

const encoder = new TextEncoder();
const scratch = new Uint8Array(256 * 1024);
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value));
}

/** UTF-8 bytes of a string; a message-sized one is measured in a reused buffer, not a new copy. */
export function utf8Bytes(text: string): number {
  if (text.length <= scratch.length) {
    const { read, written } = encoder.encodeInto(text, scratch);
    if (read === text.length) return written;
  }
  return encoder.encode(text).byteLength;
}

/**
 * `jsonBytes(record)` without building the JSON: a file step packs tens of thousands of records,
 * and serialising each one again only to measure it was a fifth of the step. Exact for records of
 * `id`, `line` and `receipt` strings; anything else is measured the slow way.
 */
export function recordJsonBytes(record: BundleRecord): number {
  for (const k in record) if (k !== "id" && k !== "line" && k !== "receipt") return jsonBytes(record);
  const { id, line, receipt } = record;
  if (typeof id !== "string" || typeof line !== "string" || (receipt !== undefined && typeof receipt !== "string"))
    return jsonBytes(record);
  // {"id":"…","line":"…"} and ,"receipt":"…"
  return 19 + jsonEscapedBytes(id) + jsonEscapedBytes(line) + (receipt === undefined ? 0 : 13 + jsonEscapedBytes(receipt));
}

/**
 * `recordJsonBytes` of records whose builder knew it (a file row's envelope is measured from its
 * parts as it is built, not by reading its line again). Only for records never changed after.
 */
export const knownRecordBytes = new WeakMap<BundleRecord, number>();

/** UTF-8 bytes of `text` inside a JSON string: as JSON.stringify escapes it, without the quotes. */
export function jsonEscapedBytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20) n += c === 0x22 || c === 0x5c ? 2 : 1;
      // \b \t \n \f \r, the rest as \u00XX
      else n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const d = text.charCodeAt(i + 1);
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 6; // a lone surrogate, as \udXXX
    } else n += 3;
  }
  return n;
}

/**
 * Packs records into bundles no larger than `limit` bytes of JSON. A record too large for any
 * bundle comes back alone in `oversized`, for the claim check.
 */
export function packBundles(
  head: BundleHeader,
  records: BundleRecord[],
  limit = MESSAGE_BYTES,
): { bundles: RecordBundle[]; oversized: RecordBundle[] } {
  const empty = (): RecordBundle => ({ kind: "bundle", v: 1, ...head, records: [] });
  const base = jsonBytes(empty());
  const bundles: RecordBundle[] = [];
  const oversized: RecordBundle[] = [];
  let current = empty();
  let size = base;
  for (const record of records) {
    const recordSize = (knownRecordBytes.get(record) ?? recordJsonBytes(record)) + 1;
    if (base + recordSize > limit) {
      oversized.push({ ...empty(), records: [record] });
      continue;
    }
    if (size + recordSize > limit && current.records.length > 0) {
      bundles.push(current);
      current = empty();
      size = base;
    }
    current.records.push(record);
    size += recordSize;
  }
  if (current.records.length > 0) bundles.push(current);
  return { bundles, oversized };
}

/**
 * Sent by a full refresh after its last part: the raw writer puts `_manifest.json` once every
 * part `0..parts-1` of the snapshot is in R2 (and retries the message until then), so a snapshot
 * is complete or visibly incomplete.
 */
export interface SnapshotManifestMessage {
  kind: "manifest";
  v: 1;
  source: string;
  stream: string;
  run_id: string;
  parts: number;
  /** Records the run sent, for the manifest's cross-check. */
  records: number;
  received_at: string;
}

export const snapshotManifestSchema = z.object({
  kind: z.literal("manifest"),
  v: z.literal(1),
  source: name,
  stream: name,
  run_id: name,
  parts: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  received_at: z.string().min(1).max(64),
});

/** Everything that travels on INGEST. */
export type IngestQueueMessage = IngestMessage | SnapshotManifestMessage;
