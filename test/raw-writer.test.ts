import { createExecutionContext, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { packBundles } from "../src/envelope/bundle";
import { enqueueRecords } from "../src/ingest/enqueue";
import { processIngestBatch } from "../src/queue-consumers/ingest-consumer";
import { aBundle, anIngestBatch, aRecord } from "./helpers/fixtures";
import { forgetDedupeKeys, heldKeys, ledgerOf } from "./helpers/ledger";
import { clearBucket, listKeys, readEnvelopes, readLines, waitForRecords } from "./helpers/raw-zone";

/** An R2 binding whose puts fail: the fault is injected through env, the writer is unchanged. */
function failingPuts(bucket: R2Bucket): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop, receiver) {
      if (prop === "put") return async () => Promise.reject(new Error("injected R2 failure"));
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function consume(batch: MessageBatch<unknown>, bindings: Partial<typeof env> = {}) {
  const ctx = createExecutionContext();
  await processIngestBatch({ ...env, ...bindings }, batch);
  return getQueueResult(batch, ctx);
}

describe("raw writer (INGEST consumer)", () => {
  beforeEach(clearBucket);

  it("given a batch of several bundles of one stream, then it writes one object holding every line byte for byte", async () => {
    const records = await Promise.all(
      Array.from({ length: 6 }, (_, i) => aRecord({ source: "w1", key: `a${i}`, json: `{"n":${i},"big":12345678901234567890}` })),
    );
    const batch = anIngestBatch([
      aBundle(records.slice(0, 2), { source: "w1" }),
      aBundle(records.slice(2, 4), { source: "w1" }),
      aBundle(records.slice(4), { source: "w1" }),
    ]);
    const result = await consume(batch);

    expect(result.ackAll).toBe(true);
    const keys = await listKeys("raw/source=w1/");
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^raw\/source=w1\/stream=events\/dt=2026-11-25\/hr=07\/webhook-[0-9a-f]{24}\.jsonl\.gz$/);
    expect(await readLines("raw/source=w1/")).toEqual(records.map((r) => r.line));
  });

  it("given two streams in one batch, then one object per stream", async () => {
    const a = await aRecord({ source: "w2", stream: "s1" });
    const b = await aRecord({ source: "w2", stream: "s2" });
    await consume(anIngestBatch([aBundle([a], { source: "w2", stream: "s1" }), aBundle([b], { source: "w2", stream: "s2" })]));
    expect((await listKeys("raw/source=w2/")).map((k) => k.split("/")[2])).toEqual(["stream=s1", "stream=s2"]);
  });

  it("given records already written, when a later batch or a redelivery repeats them, then nothing is written twice", async () => {
    const first = await aRecord({ source: "w3", key: "same" });
    await consume(anIngestBatch([aBundle([first], { source: "w3" })]));
    const fresh = await aRecord({ source: "w3", key: "new" });
    const redelivered = await consume(anIngestBatch([aBundle([first], { source: "w3" }), aBundle([first, fresh], { source: "w3" })], 2));

    expect(redelivered.ackAll).toBe(true);
    const lines = (await readEnvelopes("raw/source=w3/")).map((e) => e._dock.key);
    expect(lines.sort()).toEqual(["new", "same"]);
    const again = await consume(anIngestBatch([aBundle([first, fresh], { source: "w3" })], 3));
    expect(again.ackAll).toBe(true);
    expect(await listKeys("raw/source=w3/")).toHaveLength(2);
  });

  it("given R2 failing, then the batch is retried, nothing is acked and no dedupe key is kept", async () => {
    const record = await aRecord({ source: "w4", key: "retry-me" });
    const failed = await consume(anIngestBatch([aBundle([record], { source: "w4" })]), { RAW: failingPuts(env.RAW) });

    expect(failed.ackAll).toBe(false);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryBatch.retry).toBe(true);
    expect((await heldKeys([record.id])).size).toBe(0);

    const retried = await consume(anIngestBatch([aBundle([record], { source: "w4" })], 2));
    expect(retried.ackAll).toBe(true);
    expect((await readEnvelopes("raw/source=w4/")).map((e) => e._dock.key)).toEqual(["retry-me"]);
  });

  it("given a retried batch after a crash between R2 and D1, then it rewrites the same key with the same bytes", async () => {
    const records = [await aRecord({ source: "w5" }), await aRecord({ source: "w5" })];
    await consume(anIngestBatch([aBundle(records, { source: "w5" })]));
    const [key] = await listKeys("raw/source=w5/");
    const before = await (await env.RAW.get(key as string))?.arrayBuffer();
    // The crash: the ledger forgot (as if its write never ran) while R2 kept the object.
    await forgetDedupeKeys(records.map((r) => r.id));
    await consume(anIngestBatch([aBundle(records, { source: "w5" })], 2));
    expect(await listKeys("raw/source=w5/")).toEqual([key]);
    expect(new Uint8Array((await (await env.RAW.get(key as string))?.arrayBuffer()) as ArrayBuffer)).toEqual(
      new Uint8Array(before as ArrayBuffer),
    );
  });

  it("given a message that is not a bundle, then it is quarantined as it came and the rest of the batch lands", async () => {
    const good = await aRecord({ source: "w6" });
    const result = await consume(
      anIngestBatch([{ kind: "bundle", v: 1, source: "../etc", records: [] }, aBundle([good], { source: "w6" })]),
    );
    expect(result.ackAll).toBe(true);
    expect(await listKeys("quarantine/")).toHaveLength(1);
    expect(await readLines("raw/source=w6/")).toEqual([good.line]);
  });

  it("records receipts, objects and stream totals in D1", async () => {
    const records = [await aRecord({ source: "w7", receipt: "evt_a" }), await aRecord({ source: "w7", receipt: "evt_b" })];
    await consume(anIngestBatch([aBundle(records, { source: "w7" })]));
    expect(Object.fromEntries(await ledgerOf().receiptsOf("w7", ["evt_a", "evt_b"]))).toEqual({ evt_a: "webhook", evt_b: "webhook" });
    const stats = await env.DB.prepare("SELECT records, objects FROM stream_stats WHERE source = 'w7'").first();
    expect(stats).toEqual({ records: 2, objects: 1 });
    const objects = await env.DB.prepare("SELECT records FROM raw_objects WHERE source = 'w7'").all();
    expect(objects.results).toEqual([{ records: 2 }]);
  });

  it("given webhook records of a source reconciled event by event and of one that is not, then only the first keeps receipts, and both count in raw_objects", async () => {
    const stripe = [await aRecord({ source: "stripe", stream: "charges", key: "ch_r1", receipt: "evt_r1" })];
    const segment = [await aRecord({ source: "segment", stream: "track", key: "m_r1", receipt: "msg_r1" })];
    await consume(
      anIngestBatch([aBundle(stripe, { source: "stripe", stream: "charges" }), aBundle(segment, { source: "segment", stream: "track" })]),
    );
    expect(Object.fromEntries(await ledgerOf().receiptsOf("stripe", ["evt_r1"]))).toEqual({ evt_r1: "webhook" });
    expect((await ledgerOf().receiptsOf("segment", ["msg_r1"])).size).toBe(0);
    const objects = await env.DB.prepare(
      "SELECT source, records FROM raw_objects WHERE source IN ('stripe', 'segment') ORDER BY source",
    ).all();
    expect(objects.results).toEqual([
      { source: "segment", records: 1 },
      { source: "stripe", records: 1 },
    ]);
  });

  it("given a record larger than a queue message, then it is claim-checked through blobs/ and lands whole", async () => {
    const big = await aRecord({ source: "w8", key: "big", json: JSON.stringify({ blob: "x".repeat(200_000) }) });
    const small = await aRecord({ source: "w8", key: "small" });
    const { bundles, oversized } = packBundles(aBundle([], { source: "w8" }), [small, big]);
    expect(bundles).toHaveLength(1);
    expect(oversized).toHaveLength(1);

    const result = await enqueueRecords(env, aBundle([], { source: "w8" }), [small, big]);
    expect(result).toEqual({ messages: 2, records: 2, blobs: 1 });
    expect(await listKeys("blobs/")).toHaveLength(1);
    const landed = await waitForRecords("raw/source=w8/", 2);
    const bigLine = (await readLines("raw/source=w8/")).find((l) => l.includes('"key":"big"'));
    expect(bigLine).toBe(big.line);
    expect(landed.map((e) => e._dock.key).sort()).toEqual(["big", "small"]);
  });

  it("every line read back is one JSON object with _dock and data", async () => {
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => aRecord({ source: "w9", json: `{\n "i": ${i}\n}` })));
    await consume(anIngestBatch([aBundle(records, { source: "w9" })]));
    for (const line of await readLines("raw/source=w9/")) {
      const parsed = JSON.parse(line);
      expect(Object.keys(parsed)).toEqual(["_dock", "data"]);
      expect(parsed._dock.id).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});
