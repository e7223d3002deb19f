import { describe, expect, it } from "vitest";
import type { IngestMessage } from "../../src/envelope/bundle";
import { unpackMessageBody } from "../../src/envelope/message-body";
import { filesEnv, freshSource, heldJobs, putFile, runHeldSteps, waitParsed } from "./helpers";

/** The full 200 MB runs in the suite (about 35 s on 2 cores); bench/files-bench.ts measures its memory and rows/s. */
const MEGABYTES = 200;
const HEADER = "id,customer,amount,note,padding\n";
const pad = (n: number, w: number) => String(n).padStart(w, "0");
/** Every row has the same width, so the file's length is known before it is generated. */
function row(i: number): string {
  return `${pad(i, 9)},customer-${pad(i, 9)},${pad(i % 100000, 6)}.${pad(i % 100, 2)},"note, with ""quotes"" and a newline\nfor ${pad(i, 9)}",${"x".repeat(96)}\n`;
}
const ROW_BYTES = new TextEncoder().encode(row(1)).byteLength;

/** A CSV of `rows` rows generated in ~1 MB chunks as the upload reads it: never whole in memory. */
function generatedCsv(rows: number): { stream: ReadableStream<Uint8Array>; size: number } {
  const encoder = new TextEncoder();
  let next = 1;
  let headerSent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next > rows) {
        controller.close();
        return;
      }
      let text = headerSent ? "" : HEADER;
      headerSent = true;
      const stop = Math.min(rows, next + Math.floor(1_048_576 / ROW_BYTES));
      for (; next <= stop; next++) text += row(next);
      controller.enqueue(encoder.encode(text));
    },
  });
  return { stream, size: HEADER.length + rows * ROW_BYTES };
}

/** INGEST stand-in that checks every row number arrives exactly once (the raw writer has its own tests). */
function countingIngest(rows: number) {
  const seen = new Uint8Array(rows + 2);
  const state = { records: 0, repeats: 0, messages: 0 };
  const sendBatch = async (messages: Iterable<{ body: IngestMessage | Uint8Array }>) => {
    for (const m of messages) {
      state.messages++;
      const unpacked = unpackMessageBody(m.body);
      if (!unpacked.ok) throw new Error(unpacked.reason);
      const body = unpacked.value as IngestMessage;
      if (body.kind !== "bundle") throw new Error("no row should need a claim check");
      for (const r of body.records) {
        const line = Number(/"line":(\d+)/.exec(r.line)?.[1]);
        const n = (line - 2) / 2 + 1;
        if (seen[n]) state.repeats++;
        seen[n] = 1;
        state.records++;
      }
    }
  };
  const queue = {
    sendBatch,
    // A group that fits one message may go by send (as a webhook's does) rather than a sendBatch of one.
    send: (body: IngestMessage | Uint8Array) => sendBatch([{ body }]),
  } as unknown as Queue<IngestMessage>;
  const missing = () => {
    let m = 0;
    for (let i = 1; i <= rows; i++) if (!seen[i]) m++;
    return m;
  };
  return { queue, state, missing };
}

describe("a large generated CSV", () => {
  it(`given a ${MEGABYTES} MB CSV streamed to PUT /files, when it is parsed step by step, then every row arrives exactly once`, async () => {
    const rows = Math.floor((MEGABYTES * 1024 * 1024 - HEADER.length) / ROW_BYTES);
    const source = freshSource();
    const held = heldJobs();
    const ingest = countingIngest(rows);
    const stepEnv = filesEnv(source, { JOBS: held.queue, INGEST: ingest.queue });
    const { stream, size } = generatedCsv(rows);
    const started = Date.now();
    const res = await putFile(source, "big.csv", stream, { env: stepEnv, length: size });
    const landed = (await res.json()) as { key: string; size: number };
    expect(res.status, JSON.stringify(landed)).toBe(201);
    expect(landed.size).toBe(size);
    const landedMs = Date.now() - started;

    const steps = await runHeldSteps(held, stepEnv);
    const ledger = await waitParsed(landed.key);
    console.log(JSON.stringify({ megabytes: MEGABYTES, rows, steps, landedMs, parseMs: Date.now() - started - landedMs }));
    expect(steps).toBeGreaterThan(MEGABYTES / 8);
    expect(ledger).toMatchObject({ status: "parsed", rows, bad_rows: 0, bytes: size, steps });
    expect(ingest.state.records).toBe(rows);
    expect(ingest.state.repeats).toBe(0);
    expect(ingest.missing()).toBe(0);
  }, 600_000);
});
