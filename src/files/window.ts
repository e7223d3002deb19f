/** A slice of a file's text: `bytes` start at `offset`; `final` when the file ends inside it. */
export interface Window {
  offset: number;
  bytes: Uint8Array;
  final: boolean;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export async function isGzipObject(bucket: R2Bucket, key: string): Promise<boolean> {
  const head = await bucket.get(key, { range: { offset: 0, length: 2 } });
  if (!head) throw new Error(`landed file ${key} is missing from R2`);
  const b = new Uint8Array(await head.arrayBuffer());
  return b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

/** Bytes [offset, offset+length) of a plain object, by an R2 range read. */
export async function readPlainWindow(bucket: R2Bucket, key: string, size: number, offset: number, length: number): Promise<Window> {
  if (offset >= size) return { offset, bytes: new Uint8Array(0), final: true };
  const take = Math.min(length, size - offset);
  const object = await bucket.get(key, { range: { offset, length: take } });
  if (!object) throw new Error(`landed file ${key} is missing from R2`);
  return { offset, bytes: new Uint8Array(await object.arrayBuffer()), final: offset + take >= size };
}

/**
 * Bytes [offset, offset+length) of the decompressed text of a gzip'd object. A gzip stream cannot
 * be entered in the middle, so every step decompresses from the start and discards what earlier
 * steps parsed: step n costs n windows of decompression. Memory stays at one window.
 */
export async function readGzipWindow(bucket: R2Bucket, key: string, offset: number, length: number): Promise<Window> {
  const object = await bucket.get(key);
  if (!object) throw new Error(`landed file ${key} is missing from R2`);
  const reader = object.body.pipeThrough(new DecompressionStream("gzip")).getReader();
  const out = new Uint8Array(length);
  let filled = 0;
  let position = 0;
  let final = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunkStart = position;
      position += value.byteLength;
      if (position <= offset) continue;
      const from = Math.max(0, offset - chunkStart);
      const room = length - filled;
      const piece = value.subarray(from, from + room);
      out.set(piece, filled);
      filled += piece.byteLength;
      if (filled === length) {
        // More text after the window (in this chunk or a later one) means this is not the last step.
        final = from + room >= value.byteLength ? (await reader.read()).done : false;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { offset, bytes: out.subarray(0, filled), final };
}
