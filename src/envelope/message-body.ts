import { gunzipSync, gzipSync } from "node:zlib";
import { errorText } from "../lib/log";

/**
 * INGEST messages travel as JSON, or — a bundle of this many bytes of JSON or more — as that JSON
 * gzip'd (contentType "bytes"). Envelopes compress about tenfold, and a queue's cost (billed per
 * 64 KB, and locally the simulator's copies) follows the bytes. A webhook's one-record bundle
 * stays readable JSON. Either way the bundle holds at most MESSAGE_BYTES of JSON, so a consumer
 * batch unpacks to no more memory than before.
 */
export const GZIP_FROM_BYTES = 8 * 1024;

/** No message unpacks past this: its JSON was at most MESSAGE_BYTES; anything larger is a bomb. */
export const MAX_UNPACKED_BYTES = 1024 * 1024;

export function packMessage(json: string | Uint8Array): Uint8Array {
  return gzipSync(json, { level: 1 });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A message body as the consumer sees it: JSON bodies as they are, gzip'd ones unpacked and parsed. */
export function unpackMessageBody(body: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (!(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) return { ok: true, value: body };
  try {
    // One output chunk as large as the cap: measured in workerd, 2.8× faster than the default 16 KiB chunks.
    const unpacked = gunzipSync(asBytes(body), { maxOutputLength: MAX_UNPACKED_BYTES, chunkSize: MAX_UNPACKED_BYTES });
    const text = strictUtf8.decode(unpacked);
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `binary message is not a gzip'd JSON bundle: ${errorText(err)}` };
  }
}

/**
 * What to keep of a message that is parked or quarantined: the bundle itself when it unpacks, or
 * its bytes in base64 when it does not (never `{}`, which is what JSON makes of an ArrayBuffer).
 */
export function storableBody(body: unknown): unknown {
  const unpacked = unpackMessageBody(body);
  if (unpacked.ok) return unpacked.value;
  const bytes = asBytes(body as ArrayBuffer | ArrayBufferView);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { undecodable: unpacked.reason, base64: btoa(binary) };
}

function asBytes(body: ArrayBuffer | ArrayBufferView): Uint8Array {
  return body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}
