import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type BundleHeader, type BundleRecord, jsonBytes, MESSAGE_BYTES } from "../../src/envelope/bundle";
import type { FilesEnv } from "../../src/files/env";
import { type FileContext, rowEnvelope, rowObjectEnvelope } from "../../src/files/envelopes";
import { Sender } from "../../src/files/sender";
import { enqueueRecords } from "../../src/ingest/enqueue";

const ctx: FileContext = {
  source: "acme",
  name: "orders.csv",
  key: "files/source=acme/2026/orders.csv",
  sha256: "a".repeat(64),
  runId: "run-1",
  receivedAt: "2026-12-07T10:00:00.000Z",
};
const head: BundleHeader = {
  source: "acme",
  stream: "orders",
  pattern: "file",
  received_at: ctx.receivedAt,
  run_id: ctx.runId,
  dedupe: "bundle",
};
const names = ["id", "note", "amount"];

/** A queue that keeps, in order, what each message put on it: its content type and its bytes. */
function recordingEnv() {
  const sent: string[] = [];
  const keep = (body: unknown, contentType?: string) =>
    sent.push(`${contentType}:${body instanceof Uint8Array ? Buffer.from(body).toString("base64") : JSON.stringify(body)}`);
  const INGEST = {
    async send(body: unknown, opts?: { contentType?: string }) {
      keep(body, opts?.contentType);
    },
    async sendBatch(messages: { body: unknown; contentType?: string }[]) {
      for (const m of messages) keep(m.body, m.contentType);
    },
  };
  return { env: { ...env, INGEST } as unknown as FilesEnv, sent };
}

/** What the Sender sends for `records`, and what enqueueRecords (the send before the Sender measured groups) sends for the same groups. */
async function bothWays(records: BundleRecord[]): Promise<{ sender: string[]; enqueue: string[] }> {
  const a = recordingEnv();
  const sender = new Sender(a.env, ctx);
  for (const r of records) await sender.add("orders", r);
  await sender.flush();
  const b = recordingEnv();
  for (let i = 0; i < records.length; i += 1000) await enqueueRecords(b.env, head, records.slice(i, i + 1000));
  return { sender: a.sent, enqueue: b.sent };
}

const csvRow = (line: number, note = `note, "quoted" é ${line}`) =>
  rowObjectEnvelope(ctx, "orders", line, names, [String(line), note, `${line}.50`]);

afterEach(() => vi.restoreAllMocks());

describe("file step sends", () => {
  it("given 2,500 rows (two full groups of several messages each and a last small one), when sent, then the messages are byte for byte those enqueueRecords sends", async () => {
    const records = Array.from({ length: 2500 }, (_, i) => csvRow(i + 2));
    const { sender, enqueue } = await bothWays(records);
    expect(sender.length).toBeGreaterThan(3);
    expect(sender).toEqual(enqueue);
  });

  it("given JSON lines, bad rows and one row too large for any message, when sent, then the messages and the claim-checked blob are those enqueueRecords sends", async () => {
    const records = Array.from({ length: 1200 }, (_, i) =>
      i === 700
        ? rowEnvelope(ctx, "orders", { line: i + 1 }, { raw: "x".repeat(MESSAGE_BYTES + 10) }, "row has 1 fields, the header has 3")
        : i % 3 === 0
          ? rowEnvelope(ctx, "orders", { line: i + 1 }, { json: `{"a":{"b":[1,"\\"q\\" \\n ${i}"]},"c":"\u00e9"}` })
          : csvRow(i + 1),
    );
    const { sender, enqueue } = await bothWays(records);
    expect(sender.some((m) => m.includes('"kind":"blob"'))).toBe(true);
    expect(sender).toEqual(enqueue);
  });

  it("given a group whose whole bundle is exactly a message's limit, and one a byte over, when sent, then each is sent as enqueueRecords sends it (one message, then two)", async () => {
    for (const over of [0, 1]) {
      const records = Array.from({ length: 150 }, (_, i) => csvRow(i + 2, "n"));
      const size = jsonBytes({ kind: "bundle", v: 1, ...head, records });
      // Lengthen the last row's note until the whole bundle's JSON is MESSAGE_BYTES (+ over) bytes.
      records[149] = csvRow(151, "n".repeat(1 + MESSAGE_BYTES + over - size));
      expect(jsonBytes({ kind: "bundle", v: 1, ...head, records })).toBe(MESSAGE_BYTES + over);
      const { sender, enqueue } = await bothWays(records);
      expect(sender).toHaveLength(over + 1);
      expect(sender).toEqual(enqueue);
    }
  });

  it("given a full group of 1,000 rows, when sent, then no JSON is made of the whole group, only of the bundles that fit a message", async () => {
    const records = Array.from({ length: 1000 }, (_, i) => csvRow(i + 2));
    const stringify = vi.spyOn(JSON, "stringify");
    const { env: recording, sent } = recordingEnv();
    const sender = new Sender(recording, ctx);
    for (const r of records) await sender.add("orders", r);
    const bundleSizes = stringify.mock.calls
      .map(([value]) => (value as { records?: unknown[] } | null)?.records?.length)
      .filter((n): n is number => n !== undefined && n > 0);
    stringify.mockRestore();
    expect(sent.length).toBeGreaterThan(1);
    expect(bundleSizes).toHaveLength(sent.length);
    expect(Math.max(...bundleSizes)).toBeLessThan(1000);
  });
});
