import { describe, expect, it } from "vitest";
import type { StreamRecords } from "../delivery/bundle-pack";
import { ParallelCopyEncoder } from "./parallel-copy-encoder";

const opts = { source: "app_db", stream: "public.t", runId: "r1", columns: ["id", "v"], keyIndexes: [0], ctidFirst: false };

function keysOf(records: StreamRecords): string[] {
  let start = 0;
  return records.ends.map((end) => {
    const rec = JSON.parse(records.w.buf.toString("utf8", start, end)) as { line: string };
    start = end + 1;
    return JSON.parse(rec.line)._dock.key as string;
  });
}

describe("ParallelCopyEncoder", () => {
  it("given 10,000 rows pushed in odd-sized chunks to three threads, then batches come back in reading order with every row once", async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    const enc = await ParallelCopyEncoder.start(opts, 3, 700, 5, (records, rows) => {
      sizes.push(rows);
      seen.push(...keysOf(records));
      // Answered later and out of order, as deliveries are.
      setTimeout(() => enc.recycle(records), Math.random() * 20);
    });
    try {
      const text = Buffer.from(Array.from({ length: 10_000 }, (_, i) => `${i}\tvalue ${i}\n`).join(""));
      for (let at = 0; at < text.length; at += 977) await enc.push(text.subarray(at, at + 977));
      await enc.end();
    } finally {
      await enc.close();
    }
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(sizes.length).toBeGreaterThan(10);
  });

  it("given a malformed row, when it is encoded on a thread, then end() fails with the row's error instead of hanging", async () => {
    const enc = await ParallelCopyEncoder.start(opts, 1, 2, 3, (records) => enc.recycle(records));
    try {
      await enc.push(Buffer.from("1\ta\n2\tb\n3\n4\td\n"));
      await expect(enc.end()).rejects.toThrow(/COPY row has 1 fields, expected 2/);
    } finally {
      await enc.close();
    }
  });

  it("given a last row without its newline, when the copy ends, then it is encoded", async () => {
    const seen: string[] = [];
    const enc = await ParallelCopyEncoder.start(opts, 1, 100, 3, (records) => {
      seen.push(...keysOf(records));
      enc.recycle(records);
    });
    try {
      await enc.push(Buffer.from("1\ta\n2\tb"));
      await enc.end();
    } finally {
      await enc.close();
    }
    expect(seen).toEqual(["1", "2"]);
  });
});
