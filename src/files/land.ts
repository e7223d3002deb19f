import { toHex } from "../lib/bytes";
import { log } from "../lib/log";
import { type FileSpec, fileSpec, readFilesConfig } from "./config";
import type { FilesEnv } from "./env";
import { fileParseJob } from "./jobs";
import { insertLedgerRow, type LedgerRow, ledgerBySha, markQueued } from "./ledger";
import { KeyTaken, releaseLandingKey, reserveLandingKey } from "./landing-key";

export interface LandInput {
  source: string;
  name: string;
  body: ReadableStream<Uint8Array>;
  /** Exact byte length: R2 needs it up front to take a stream. */
  size: number;
  origin: "put" | "r2_event";
  now?: Date;
}

export type LandResult =
  | { status: "landed"; key: string; sha256: string; size: number; run_id: string; stream: string; format: string | null }
  | { status: "duplicate"; key: string; sha256: string; size: number; run_id: string };

export class LengthMismatch extends Error {}

/**
 * Streams a file into `files/source=<s>/<date>/<name>` (or a `v=…` key when that name is taken:
 * see reserveLandingKey), never whole in memory, hashing it on the way, then records it in the
 * ledger and queues its first parse step. The same bytes already landed for the source: the new
 * copy is removed and the earlier landing is returned as a duplicate.
 */
export async function landFile(env: FilesEnv, input: LandInput): Promise<LandResult> {
  const now = input.now ?? new Date();
  const spec = fileSpec(readFilesConfig(env.FILES_CONFIG), input.source, input.name);
  const meta = { source: input.source, name: input.name };
  // A second file with the same name (the same day, or at the same moment) never writes the first one's key.
  const reserved = await reserveLandingKey(env.RAW, input.source, input.name, now, meta);
  const key = reserved.key;
  let sha256: string;
  try {
    sha256 = await streamToR2(env.RAW, key, input.body, input.size, meta, reserved.onlyIf);
  } catch (err) {
    await releaseLandingKey(env.RAW, reserved).catch(() => undefined);
    throw err;
  }
  const runId = `file-${crypto.randomUUID()}`;
  const landedAt = now.toISOString();
  const inserted = await insertLedgerRow(env.DB, {
    key,
    source: input.source,
    name: input.name,
    sha256,
    size: input.size,
    origin: input.origin,
    spec,
    runId,
    landedAt,
  });
  if (!inserted) {
    const earlier = await ledgerBySha(env.DB, input.source, sha256);
    if (!earlier) throw new Error("ledger refused the file but holds no row with its sha256");
    if (earlier.key !== key) await env.RAW.delete(key);
    await requeueIfStalled(env, earlier);
    log("info", { event: "file.duplicate", source: input.source, pattern: "file", run_id: earlier.run_id, key: earlier.key });
    return { status: "duplicate", key: earlier.key, sha256, size: input.size, run_id: earlier.run_id };
  }
  if (spec.format) await queueStep(env, key, 0);
  log("info", { event: "file.landed", source: input.source, stream: spec.stream, pattern: "file", run_id: runId, key, bytes: input.size });
  return { status: "landed", key, sha256, size: input.size, run_id: runId, stream: spec.stream, format: describe(spec) };
}

function describe(spec: FileSpec): string | null {
  return spec.format ? `${spec.format}${spec.gzip ? "+gzip" : ""}` : null;
}

export async function queueStep(env: FilesEnv, key: string, offset: number): Promise<void> {
  await env.JOBS.send(fileParseJob(key, offset), { contentType: "json" });
  await markQueued(env.DB, key, offset);
}

/** A landing whose first step never reached JOBS (the send failed after the ledger insert) is restarted. */
async function requeueIfStalled(env: FilesEnv, row: LedgerRow): Promise<void> {
  if (row.status === "parsing" && row.queued_offset < row.parse_offset) await queueStep(env, row.key, row.parse_offset);
}

/**
 * Pipes `body` through a SHA-256 digest into R2 with a fixed length. R2 writes the object only if
 * the stream completes (and `onlyIf` holds), so a broken upload leaves nothing behind. Returns the
 * hex digest; throws KeyTaken when the condition failed.
 */
export async function streamToR2(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  size: number,
  meta: Record<string, string>,
  onlyIf?: R2Conditional,
): Promise<string> {
  const options: R2PutOptions = onlyIf ? { customMetadata: meta, onlyIf } : { customMetadata: meta };
  // A zero-length FixedLengthStream never completes the put: an empty file is written as empty bytes.
  if (size === 0) {
    const { value, done } = await body.getReader().read();
    if (!done && value && value.byteLength > 0) throw new LengthMismatch("body is longer than the declared 0 bytes");
    if (!(await bucket.put(key, new Uint8Array(0), options))) throw new KeyTaken(`${key} is held by another landing`);
    return toHex(await crypto.subtle.digest("SHA-256", new Uint8Array(0)));
  }
  const digest = new crypto.DigestStream("SHA-256");
  const hashWriter = digest.getWriter();
  let seen = 0;
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > size) throw new LengthMismatch(`body is longer than the declared ${size} bytes`);
      await hashWriter.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      if (seen !== size) throw new LengthMismatch(`body ended after ${seen} of ${size} bytes`);
      await hashWriter.close();
    },
  });
  const fixed = new FixedLengthStream(size);
  const [pumped, put] = await Promise.allSettled([
    body.pipeThrough(counted).pipeTo(fixed.writable),
    bucket.put(key, fixed.readable, options),
  ]);
  if (pumped.status === "rejected" || put.status === "rejected") {
    digest.digest.catch(() => undefined);
    await hashWriter.abort().catch(() => undefined);
    throw pumped.status === "rejected" ? pumped.reason : (put as PromiseRejectedResult).reason;
  }
  if (!put.value) throw new KeyTaken(`${key} is held by another landing`);
  return toHex(await digest.digest);
}
