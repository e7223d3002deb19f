import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { type BundleRecord, jsonBytes, MESSAGE_BYTES, type RecordBundle } from "../src/envelope/bundle";
import { GZIP_FROM_BYTES, MAX_UNPACKED_BYTES, unpackMessageBody } from "../src/envelope/message-body";
import { enqueueRecords } from "../src/ingest/enqueue";
import { parkDeadLetters, redriveDeadLetters } from "../src/ops/dlq";
import { processIngestBatch } from "../src/queue-consumers/ingest-consumer";
import { aBundle, anIngestBatch, aRecord } from "./helpers/fixtures";
import { forgetAllDedupeKeys } from "./helpers/ledger";
import { clearBucket, listKeys, readLines, waitForRecords } from "./helpers/raw-zone";

/** INGEST as the producer sees it, keeping what it was asked to send (content types included). */
function capturingQueue() {
  const sent: MessageSendRequest<unknown>[] = [];
  const queue = {
    async send(body: unknown, opts?: QueueSendOptions) {
      sent.push({ body, contentType: opts?.contentType });
    },
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>) {
      sent.push(...messages);
    },
  };
  return { sent, queue: queue as unknown as Queue<never> };
}

/** What the real queue hands a consumer for a "bytes" message: an ArrayBuffer of its own (a Buffer's slice() would share). */
const asDelivered = (bytes: Uint8Array) => new Uint8Array(bytes).buffer;

async function consume(batch: MessageBatch<unknown>) {
  const ctx = createExecutionContext();
  await processIngestBatch(env, batch);
  return getQueueResult(batch, ctx);
}

const records = (source: string, n: number, pad = 40) =>
  Promise.all(Array.from({ length: n }, (_, i) => aRecord({ source, key: `k${i}`, json: `{"i":${i},"note":"${'é\\"x'.repeat(pad)}"}` })));

describe("INGEST messages: gzip'd bundles", () => {
  beforeEach(clearBucket);

  it("given a bundle of 8 KB of JSON or more, when enqueued, then it travels gzip'd as bytes and unpacks to the same bundle", async () => {
    const { sent, queue } = capturingQueue();
    const list = await records("p1", 60);
    const head = aBundle([], { source: "p1" });
    expect(jsonBytes({ ...head, records: list })).toBeGreaterThanOrEqual(GZIP_FROM_BYTES);

    await enqueueRecords({ ...env, INGEST: queue }, head, list);

    expect(sent).toHaveLength(1);
    expect(sent[0]?.contentType).toBe("bytes");
    const body = sent[0]?.body as Uint8Array;
    expect(body.byteLength).toBeLessThan(jsonBytes({ ...head, records: list }) / 3);
    expect(unpackMessageBody(asDelivered(body))).toEqual({ ok: true, value: { ...head, records: list } });
  });

  it("given a one-record bundle (a webhook), when enqueued, then it stays readable JSON", async () => {
    const { sent, queue } = capturingQueue();
    const one = await aRecord({ source: "p2" });
    await enqueueRecords({ ...env, INGEST: queue }, aBundle([], { source: "p2" }), [one]);
    expect(sent).toEqual([{ body: aBundle([one], { source: "p2" }), contentType: "json" }]);
  });

  it("given more records than one message holds, then each gzip'd message holds at most a message of JSON, all in order", async () => {
    const { sent, queue } = capturingQueue();
    const list = await records("p3", 900);
    const result = await enqueueRecords({ ...env, INGEST: queue }, aBundle([], { source: "p3" }), list);

    expect(result.messages).toBeGreaterThan(1);
    const unpacked = sent.map((m) => {
      expect(m.contentType).toBe("bytes");
      const u = unpackMessageBody(asDelivered(m.body as Uint8Array));
      if (!u.ok) throw new Error(u.reason);
      expect(jsonBytes(u.value)).toBeLessThanOrEqual(MESSAGE_BYTES);
      return u.value as RecordBundle;
    });
    expect(unpacked.flatMap((b) => b.records)).toEqual(list);
  });

  it("given gzip'd bundles on the real local queue, then the raw writer lands them line for line", async () => {
    const list = await records("p4", 400);
    await enqueueRecords(env, aBundle([], { source: "p4" }), list);
    await waitForRecords("raw/source=p4/", list.length);
    expect((await readLines("raw/source=p4/")).sort()).toEqual(list.map((r) => r.line).sort());
  });

  it("given the same bundle gzip'd or as JSON, then the raw writer writes the same object", async () => {
    const list = await records("p5", 50);
    const bundle = aBundle(list, { source: "p5" });
    await consume(anIngestBatch([asDelivered(gzipSync(JSON.stringify(bundle)))]));
    const packed = await listKeys("raw/source=p5/");
    const packedLines = await readLines("raw/source=p5/");
    await clearBucket();
    await forgetAllDedupeKeys();
    await consume(anIngestBatch([bundle]));
    expect(await listKeys("raw/source=p5/")).toEqual(packed);
    expect(packedLines).toEqual(list.map((r) => r.line));
  });

  it.each([
    ["bytes that are not gzip", () => new TextEncoder().encode('{"kind":"bundle"}')],
    [
      "a valid bundle unpacking to more than 1 MiB (a bomb)",
      () =>
        gzipSync(JSON.stringify(aBundle([{ id: "0".repeat(32), line: `{"x":"${"a".repeat(MAX_UNPACKED_BYTES)}"}` }], { source: "p6" }))),
    ],
    ["gzip'd bytes that are not UTF-8", () => gzipSync(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))],
    ["gzip'd text that is not JSON", () => gzipSync("not json")],
    ["a gzip'd JSON that is not a bundle", () => gzipSync(JSON.stringify({ kind: "bundle", v: 1, source: "../etc", records: [] }))],
    ["a truncated gzip", () => gzipSync(JSON.stringify(aBundle([], { source: "p6" }))).subarray(0, 20)],
  ])("given %s, then it is quarantined with its bytes kept, and the rest of the batch lands", async (_what, make) => {
    const good = await aRecord({ source: "p6" });
    const bad = make();
    const result = await consume(anIngestBatch([asDelivered(bad), aBundle([good], { source: "p6" })]));

    expect(result.ackAll).toBe(true);
    expect(await readLines("raw/source=p6/")).toEqual([good.line]);
    const [key] = await listKeys("quarantine/");
    const kept = (await (await env.RAW.get(key as string))?.json()) as { reason: string; body: { base64?: string } | object };
    expect(kept.reason).not.toBe("");
    if ("base64" in kept.body && kept.body.base64) {
      expect(Uint8Array.from(atob(kept.body.base64), (c) => c.charCodeAt(0))).toEqual(new Uint8Array(bad));
    } else {
      // It unpacked, but is not a bundle: kept as the JSON it held.
      expect(kept.body).toEqual({ kind: "bundle", v: 1, source: "../etc", records: [] });
    }
  });

  it("given a gzip'd bundle in the DLQ, then it is parked readable, named by source and stream, and re-driven as JSON", async () => {
    const list: BundleRecord[] = await records("p7", 30);
    const bundle = aBundle(list, { source: "p7", stream: "orders" });
    await parkDeadLetters(
      env,
      createMessageBatch("loading-dock-ingest-dlq", [
        { id: "dead-packed", timestamp: new Date(), attempts: 11, body: asDelivered(gzipSync(JSON.stringify(bundle))) },
      ]),
    );
    expect(await env.DB.prepare("SELECT source, stream FROM dead_letters WHERE id = 'dead-packed'").first()).toEqual({
      source: "p7",
      stream: "orders",
    });

    const { sent, queue } = capturingQueue();
    const out = await redriveDeadLetters({ DB: env.DB, INGEST: queue, JOBS: queue }, { ids: ["dead-packed"] });
    expect(out).toEqual({ redriven: 1, skipped: 0, failed: null });
    expect(sent.map((m) => m.contentType)).toEqual(["bytes"]);
    expect(unpackMessageBody(asDelivered(sent[0]?.body as Uint8Array))).toEqual({ ok: true, value: bundle });
  });

  it("given 60 parked bundles of ~100 KB, when re-driven, then every sendBatch stays within 100 messages and 256 KB, and all go back once", async () => {
    const list = await records("p8", 70, 150);
    const bundle = aBundle(list, { source: "p8" });
    expect(jsonBytes(bundle)).toBeGreaterThan(90_000);
    expect(jsonBytes(bundle)).toBeLessThanOrEqual(MESSAGE_BYTES);
    const ids = Array.from({ length: 60 }, (_, i) => `dead-big-${i}`);
    await parkDeadLetters(
      env,
      createMessageBatch(
        "loading-dock-ingest-dlq",
        ids.map((id) => ({ id, timestamp: new Date(), attempts: 11, body: asDelivered(gzipSync(JSON.stringify(bundle))) })),
      ),
    );

    const calls: MessageSendRequest<unknown>[][] = [];
    const queue = {
      sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
        const list = [...messages];
        const bytes = list.reduce((n, m) => n + (m.body instanceof Uint8Array ? m.body.byteLength : jsonBytes(m.body)), 0);
        if (list.length > 100 || bytes > 256_000) throw new Error(`sendBatch refused: ${list.length} messages, ${bytes} bytes`);
        calls.push(list);
      },
    } as unknown as Queue<never>;
    const out = await redriveDeadLetters({ DB: env.DB, INGEST: queue, JOBS: queue }, { ids });
    expect(out).toEqual({ redriven: 60, skipped: 0, failed: null });
    expect(calls.flat()).toHaveLength(60);
    expect(calls.flat().every((m) => m.contentType === "bytes")).toBe(true);
  });
});
