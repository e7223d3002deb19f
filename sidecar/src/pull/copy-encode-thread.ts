import { parentPort, workerData } from "node:worker_threads";
import { cachedIsoClock } from "../clock";
import { ByteWriter } from "../delivery/byte-writer";
import { StreamRecords } from "../delivery/bundle-pack";
import { CopyRowEncoder, type CopyRowEncoderOptions } from "./copy-row-encoder";
import type { EncodeRequest, EncodeResult } from "./parallel-copy-encoder";

/** One encoding thread of a full refresh: COPY rows in, delivery records out, buffers passed back and forth. */
const encoder = new CopyRowEncoder({ ...(workerData as Omit<CopyRowEncoderOptions, "receivedAt">), receivedAt: cachedIsoClock() });
const port = parentPort;
if (!port) throw new Error("copy-encode-thread runs as a worker thread");

port.on("message", (m: EncodeRequest) => {
  const input = Buffer.from(m.input, 0, m.length);
  // At least 64 KiB: smaller buffers share a pool that must not be transferred.
  const out = m.output ? new StreamRecords(0, ByteWriter.over(Buffer.from(m.output))) : new StreamRecords(Math.max(m.length * 5, 65536));
  try {
    const rows = encoder.push(input, out) + encoder.end(out);
    const ends = Int32Array.from(out.ends);
    const buf = out.w.buf;
    const result: EncodeResult = { seq: m.seq, rows, output: buf.buffer as ArrayBuffer, pos: out.w.pos, ends: ends.buffer, input: m.input };
    port.postMessage(result, [buf.buffer as ArrayBuffer, ends.buffer, m.input]);
  } catch (err) {
    port.postMessage({ seq: m.seq, error: err instanceof Error ? err.message : String(err), input: m.input } satisfies EncodeResult, [
      m.input,
    ]);
  }
});
