import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { RecordBundle } from "../../src/envelope/bundle";
import { type LedgerEnv, recordLedger } from "../../src/ledger";
import { dedupeId, type LedgerShard, receiptId } from "../../src/ledger/ledger-shard";
import { fnv1a32, shardOf } from "../../src/ledger/shard-hash";
import worker from "../../src/index";
import { writeBundles } from "../../src/queue-consumers/raw-writer";
import { isoVersionTime, type TrackedObjects } from "../../src/reconcile/objects";
import { aBundle, aRecord } from "../helpers/fixtures";
import { type LedgerKind, ledgerEnv, ledgerRows } from "../helpers/ledger";
import { clearBucket, listKeys, readEnvelopes } from "../helpers/raw-zone";

const NOW = new Date("2026-11-25T08:00:00Z");
const HOUR = 3_600_000;

/**
 * A LEDGER namespace that counts each shard's calls by method, and can make some shards' writes fail:
 * `failWritesOf(name, nth)` is asked before a shard's nth write (from 1); true fails it, an Error is thrown as it is.
 */
function watchedShards(
  ns: DurableObjectNamespace<LedgerShard>,
  failWritesOf: (name: string, nth: number) => boolean | Error = () => false,
) {
  const calls: { shard: string; method: string }[] = [];
  const names = new Map<string, string>();
  const watched = {
    idFromName(name: string) {
      const id = ns.idFromName(name);
      names.set(id.toString(), name);
      return id;
    },
    get(id: DurableObjectId) {
      const stub = ns.get(id);
      const name = names.get(id.toString()) ?? "?";
      return new Proxy(stub, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (typeof value !== "function" || typeof prop !== "string") return value;
          return (...args: unknown[]) => {
            calls.push({ shard: name, method: prop });
            if (prop === "write") {
              const fail = failWritesOf(name, calls.filter((c) => c.shard === name && c.method === "write").length);
              if (fail) return Promise.reject(fail instanceof Error ? fail : new Error(`injected failure of ${name}`));
            }
            return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]?.(...args);
          };
        },
      });
    },
  };
  return { ns: watched as unknown as DurableObjectNamespace<LedgerShard>, calls };
}

/** A D1 binding whose batches fail after the first `ok` ones: the crash after R2 put, before D1 holds the objects. */
function failingBatches(d1: D1Database, ok = 0): D1Database {
  let calls = 0;
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) =>
          ++calls > ok ? Promise.reject(new Error("injected D1 failure")) : target.batch(statements);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const tracked: TrackedObjects = { streams: ["contacts"], versionTime: (version) => isoVersionTime(version) };

async function write(e: LedgerEnv & { RAW: R2Bucket }, bundles: RecordBundle[], now = NOW, retentionHours = 96) {
  return writeBundles(e, bundles, { retentionHours, now, tracked: (s) => (s.startsWith("mk") ? tracked : undefined) });
}

describe("shard hash", () => {
  it("given FNV-1a's published test vectors, then fnv1a32 matches them", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("given 16,000 dock ids, then each of 16 shards gets within 15% of its share", async () => {
    const counts = Array.from({ length: 16 }, () => 0);
    for (let i = 0; i < 16_000; i++) {
      const r = await aRecord({ source: "spread", key: `k${i}` });
      counts[shardOf(r.id, 16)] = (counts[shardOf(r.id, 16)] ?? 0) + 1;
    }
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });
});

describe("shard row ids", () => {
  it("given a dock id, a bundle key of the same digest and keys that are not digests, then each has its own 16-byte id", () => {
    const hex = "0123456789abcdef0123456789abcdef";
    const ids = [hex, `bundle:${hex}`, `02${hex}`, "alarm-key", hex.toUpperCase(), `bundle:${hex}x`].map(dedupeId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(hex);
    for (const id of ids) expect(id).toMatch(/^([0-9a-f]{32}|0[12][0-9a-f]{32})$/);
  });

  it("given the same event id of two sources, then their receipts have different ids", () => {
    expect(receiptId("stripe", "evt_1")).not.toBe(receiptId("github", "evt_1"));
  });
});

describe.each<LedgerKind>(["d1", "sharded"])("record ledger: %s", (kind) => {
  const e = () => ({ ...ledgerEnv(kind), RAW: env.RAW });
  beforeEach(clearBucket);

  it("given records written, when later batches repeat them, then they land once and the ledger holds their keys", async () => {
    const a = await aRecord({ source: `dd-${kind}`, key: "a" });
    const b = await aRecord({ source: `dd-${kind}`, key: "b" });
    const first = await write(e(), [aBundle([a], { source: `dd-${kind}` })]);
    const second = await write(e(), [aBundle([a, b], { source: `dd-${kind}` }), aBundle([a], { source: `dd-${kind}` })]);
    expect(first.written).toBe(1);
    expect(second).toMatchObject({ written: 1, duplicates: 2 });
    expect((await readEnvelopes(`raw/source=dd-${kind}/`)).map((x) => x._dock.key).sort()).toEqual(["a", "b"]);
    const seen = (await recordLedger(e()).read({ keys: [a.id, b.id, "never-written"], marks: [] })).seen;
    expect([...seen].sort()).toEqual([a.id, b.id].sort());
  });

  it("given webhook records with receipts, then receipts are held by event id and filed by day received, and a repeat keeps the first", async () => {
    const source = `rc-${kind}`;
    const day1 = [await aRecord({ source, receipt: "evt_1" }), await aRecord({ source, receipt: "evt_2" })];
    const day2 = [await aRecord({ source, receipt: "evt_3", receivedAt: "2026-11-26T01:00:00.000Z" })];
    await write(e(), [aBundle(day1, { source }), aBundle(day2, { source, received_at: "2026-11-26T01:00:00.000Z" })]);
    const recovered = await aRecord({ source, receipt: "evt_4", pattern: "reconcile" });
    await write(e(), [aBundle([recovered], { source, pattern: "reconcile" })]);
    const ledger = recordLedger(e());
    // The same event received again a day later, by reconciliation: the first receipt stays.
    await ledger.write({
      dedupe: [],
      expiresAt: NOW,
      marks: [],
      receipts: [{ source, eventId: "evt_1", dockId: "x", stream: "events", pattern: "reconcile", receivedAt: "2026-11-27T00:00:00.000Z" }],
      now: NOW,
    });

    const held = await ledger.receiptsOf(source, ["evt_1", "evt_3", "evt_4", "evt_missing"]);
    expect(Object.fromEntries(held)).toEqual({ evt_1: "webhook", evt_3: "webhook", evt_4: "reconcile" });
    expect(Object.fromEntries(await ledger.receiptsOf(`${source}-other`, ["evt_1"]))).toEqual({});
    const rows = await ledgerRows("webhook_receipts", e());
    if (kind === "d1") {
      expect(rows.filter((r) => r.source === source).map((r) => [r.event_id, r.pattern, r.received_at])).toEqual([
        ["evt_1", "webhook", "2026-11-25T07:00:00.000Z"],
        ["evt_2", "webhook", "2026-11-25T07:00:00.000Z"],
        ["evt_3", "webhook", "2026-11-26T01:00:00.000Z"],
        ["evt_4", "reconcile", "2026-11-25T07:00:00.000Z"],
      ]);
    } else {
      const ids = new Map(["evt_1", "evt_2", "evt_3", "evt_4"].map((id) => [receiptId(source, id), id]));
      const mine = rows.filter((r) => ids.has(r.id as string));
      // The repeat is filed on its own day; the first one is what receiptsOf answers (above).
      expect(mine.map((r) => [ids.get(r.id as string), r.received_day]).sort()).toEqual([
        ["evt_1", "2026-11-25"],
        ["evt_1", "2026-11-27"],
        ["evt_2", "2026-11-25"],
        ["evt_3", "2026-11-26"],
        ["evt_4", "2026-11-25"],
      ]);
    }
  });

  it("given marks of one object, then the mark only rises: an older version written later leaves the newer one", async () => {
    const source = `mk-${kind}`;
    const at = (key: string, iso: string, pattern: "poll" | "webhook" = "poll") =>
      aRecord({ source, stream: "contacts", key, version: `${iso}|0123456789abcdef`, pattern });
    await write(e(), [aBundle([await at("c1", "2026-11-25T05:00:00.000Z")], { source, stream: "contacts", pattern: "poll" })]);
    await write(e(), [aBundle([await at("c1", "2026-11-25T03:00:00.000Z")], { source, stream: "contacts", pattern: "poll" })]);
    const ledger = recordLedger(e());
    const held = await ledger.heldVersions(source, [
      { stream: "contacts", key: "c1" },
      { stream: "contacts", key: "c2" },
    ]);
    expect([...held.keys()]).toEqual(["contacts\nc1"]);
    expect(held.get("contacts\nc1")?.versionMs).toBe(Date.parse("2026-11-25T05:00:00.000Z"));
    await write(e(), [aBundle([await at("c1", "2026-11-25T06:00:00.000Z")], { source, stream: "contacts", pattern: "poll" })]);
    const raised = await ledger.read({ keys: [], marks: [{ source, stream: "contacts", key: "c1" }] });
    expect(raised.held.get(`${source}\ncontacts\nc1`)).toMatchObject({
      versionMs: Date.parse("2026-11-25T06:00:00.000Z"),
      pattern: "poll",
    });
  });

  it("given dedupe keys past their horizon, when the ledger prunes, then they are gone and the record lands again", async () => {
    const source = `ex-${kind}`;
    const old = await aRecord({ source, key: "old" });
    await write(e(), [aBundle([old], { source })], NOW, 1);
    const young = await aRecord({ source, key: "young" });
    await write(e(), [aBundle([young], { source })], new Date(NOW.getTime() + 20 * HOUR), 96);
    const ledger = recordLedger(e());
    expect((await ledger.read({ keys: [old.id, young.id], marks: [] })).seen.size).toBe(2);

    // Past the first key's horizon (1 h, and the shards' 8-hour buckets): gone; the young one stays.
    await ledger.prune(new Date(NOW.getTime() + 30 * HOUR));
    expect([...(await ledger.read({ keys: [old.id, young.id], marks: [] })).seen]).toEqual([young.id]);
    const again = await write(e(), [aBundle([old], { source })], new Date(NOW.getTime() + 30 * HOUR));
    expect(again.written).toBe(1);
  });

  it("given R2 held the object but the ledger's write never happened, then the retry rewrites the same key with the same bytes", async () => {
    const source = `cr-${kind}`;
    const records = [await aRecord({ source, receipt: "evt_c1" }), await aRecord({ source, receipt: "evt_c2" })];
    // D1's read is its first batch; the sharded ledger reads from its shards.
    const crashed = { ...e(), DB: failingBatches(env.DB, kind === "d1" ? 1 : 0) };
    if (kind === "sharded") crashed.LEDGER = watchedShards(env.LEDGER, () => true).ns;
    await expect(write(crashed, [aBundle(records, { source })])).rejects.toThrow(/injected/);
    const [key] = await listKeys(`raw/source=${source}/`);
    const before = new Uint8Array((await (await env.RAW.get(key as string))?.arrayBuffer()) as ArrayBuffer);

    const retried = await write(e(), [aBundle(records, { source })]);
    expect(retried).toMatchObject({ written: 2, duplicates: 0 });
    expect(await listKeys(`raw/source=${source}/`)).toEqual([key]);
    expect(new Uint8Array((await (await env.RAW.get(key as string))?.arrayBuffer()) as ArrayBuffer)).toEqual(before);
    const objects = await env.DB.prepare("SELECT records FROM raw_objects WHERE source = ?1").bind(source).all();
    expect(objects.results).toEqual([{ records: 2 }]);
  });
});

describe("sharded ledger: what one D1 did atomically, across shards", () => {
  beforeEach(clearBucket);

  it("given a write that reached some shards and not D1, when the batch is retried, then the same object is rewritten and nothing lands twice", async () => {
    const source = "half";
    const records = await Promise.all(Array.from({ length: 40 }, (_, i) => aRecord({ source, key: `h${i}`, receipt: `evt_h${i}` })));
    const failing = new Set(["ledger-0", "ledger-1", "ledger-2", "ledger-3", "ledger-4", "ledger-5", "ledger-6", "ledger-7"]);
    const half = {
      ...ledgerEnv("sharded"),
      RAW: env.RAW,
      DB: failingBatches(env.DB),
      LEDGER: watchedShards(env.LEDGER, (n) => failing.has(n)).ns,
    };
    await expect(write(half, [aBundle(records, { source })])).rejects.toThrow(/injected/);
    const [key] = await listKeys(`raw/source=${source}/`);
    const before = new Uint8Array((await (await env.RAW.get(key as string))?.arrayBuffer()) as ArrayBuffer);
    // Some keys are held now (the shards that took the write), some are not.
    const heldAfterCrash = (await recordLedger(ledgerEnv("sharded")).read({ keys: records.map((r) => r.id), marks: [] })).seen;
    expect(heldAfterCrash.size).toBeGreaterThan(0);
    expect(heldAfterCrash.size).toBeLessThan(records.length);

    const retried = await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle(records, { source })]);
    expect(retried).toMatchObject({ written: 40, duplicates: 0 });
    expect(await listKeys(`raw/source=${source}/`)).toEqual([key]);
    expect(new Uint8Array((await (await env.RAW.get(key as string))?.arrayBuffer()) as ArrayBuffer)).toEqual(before);

    // And from then on they are duplicates, in a batch of their own or mixed with new ones.
    const fresh = await aRecord({ source, key: "fresh" });
    const later = await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle([...records.slice(0, 5), fresh], { source })]);
    expect(later).toMatchObject({ written: 1, duplicates: 5 });
    expect((await readEnvelopes(`raw/source=${source}/`)).length).toBe(41);
  });

  it("given a shard whose write fails once, then the ledger asks it again and the batch lands without a retry of its own; an overloaded shard is not asked again", async () => {
    const source = "blip";
    const records = await Promise.all(Array.from({ length: 40 }, (_, i) => aRecord({ source, key: `b${i}` })));
    const blip = watchedShards(env.LEDGER, (name, nth) => name === "ledger-3" && nth === 1);
    const written = await write({ ...ledgerEnv("sharded"), RAW: env.RAW, LEDGER: blip.ns }, [aBundle(records, { source })]);
    expect(written).toMatchObject({ written: 40, duplicates: 0 });
    expect(blip.calls.filter((c) => c.shard === "ledger-3" && c.method === "write")).toHaveLength(2);
    expect((await recordLedger(ledgerEnv("sharded")).read({ keys: records.map((r) => r.id), marks: [] })).seen.size).toBe(40);

    const overloaded = Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
    const busy = watchedShards(env.LEDGER, (name) => (name === "ledger-5" ? overloaded : false));
    const more = await Promise.all(Array.from({ length: 40 }, (_, i) => aRecord({ source, key: `o${i}` })));
    await expect(write({ ...ledgerEnv("sharded"), RAW: env.RAW, LEDGER: busy.ns }, [aBundle(more, { source })])).rejects.toThrow(
      /overloaded/,
    );
    expect(busy.calls.filter((c) => c.shard === "ledger-5" && c.method === "write")).toHaveLength(1);

    const down = watchedShards(env.LEDGER, (name) => name === "ledger-7");
    await expect(write({ ...ledgerEnv("sharded"), RAW: env.RAW, LEDGER: down.ns }, [aBundle(more, { source })])).rejects.toThrow(
      /injected/,
    );
    expect(down.calls.filter((c) => c.shard === "ledger-7" && c.method === "write")).toHaveLength(3);
  });

  it("given a write that reached D1 and not the shards, when the batch is retried, then the same object is rewritten and the stream's totals count it once", async () => {
    const source = "d1first";
    const records = await Promise.all(Array.from({ length: 10 }, (_, i) => aRecord({ source, key: `f${i}` })));
    const noShards = { ...ledgerEnv("sharded"), RAW: env.RAW, LEDGER: watchedShards(env.LEDGER, () => true).ns };
    await expect(write(noShards, [aBundle(records, { source })])).rejects.toThrow(/injected/);
    const [key] = await listKeys(`raw/source=${source}/`);

    const retried = await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle(records, { source })]);
    expect(retried).toMatchObject({ written: 10, duplicates: 0 });
    expect(await listKeys(`raw/source=${source}/`)).toEqual([key]);
    const stats = await env.DB.prepare("SELECT records, objects FROM stream_stats WHERE source = ?1").bind(source).first();
    expect(stats).toEqual({ records: 10, objects: 1 });
  });

  it("given records already written by another batch, when a batch repeats some, then those stay duplicates (their token is another object's)", async () => {
    const source = "other";
    const a = await aRecord({ source, key: "a" });
    const b = await aRecord({ source, key: "b" });
    await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle([a], { source })]);
    const second = await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle([a, b], { source })]);
    expect(second).toMatchObject({ written: 1, duplicates: 1 });
    expect((await readEnvelopes(`raw/source=${source}/`)).map((x) => x._dock.key).sort()).toEqual(["a", "b"]);
  });

  it("given exactly the records of an earlier object sent again in another hour, then they stay duplicates (the token names the object, not only its ids)", async () => {
    const source = "again";
    const records = await Promise.all(Array.from({ length: 3 }, (_, i) => aRecord({ source, key: `g${i}`, pattern: "poll" })));
    const sharded = () => ({ ...ledgerEnv("sharded"), RAW: env.RAW });
    await write(sharded(), [aBundle(records, { source, pattern: "poll" })]);
    const later = await write(sharded(), [aBundle(records, { source, pattern: "poll", received_at: "2026-11-25T09:10:00.000Z" })]);
    expect(later).toMatchObject({ written: 0, duplicates: 3 });
    expect(await listKeys(`raw/source=${source}/`)).toHaveLength(1);
  });

  it("given a batch of 500 keys, then its read and its write are one round trip each, one call per shard touched, every shard touched", async () => {
    const source = "rpc";
    const records = await Promise.all(Array.from({ length: 500 }, (_, i) => aRecord({ source, key: `r${i}`, receipt: `evt_r${i}` })));
    const watched = watchedShards(env.LEDGER);
    const ledger = recordLedger({ ...ledgerEnv("sharded"), LEDGER: watched.ns });
    await writeBundles({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle(records, { source })], { retentionHours: 96, now: NOW, ledger });

    expect(ledger.counters.roundTrips).toBe(2);
    for (const method of ["read", "write"]) {
      const shards = watched.calls.filter((c) => c.method === method).map((c) => c.shard);
      expect(shards.length, method).toBe(16);
      expect(new Set(shards).size, method).toBe(16);
    }
    const storage = await recordLedger(ledgerEnv("sharded")).storage();
    const perShard = storage.shards.map((s) => s.dedupe);
    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(storage.bytes).toBeGreaterThan(0);
  });

  it("given LEDGER_SHARDS changed from 4 to 8, then keys written under 4 are found while LEDGER_SHARDS_PREVIOUS says 4, and some are not without it", async () => {
    const records = await Promise.all(Array.from({ length: 64 }, (_, i) => aRecord({ source: "remap", key: `m${i}` })));
    await write({ ...ledgerEnv("sharded", env, "4"), RAW: env.RAW }, [aBundle(records, { source: "remap" })]);
    const ids = records.map((r) => r.id);
    const withPrevious = recordLedger({ ...ledgerEnv("sharded", env, "8"), LEDGER_SHARDS_PREVIOUS: "4" });
    expect((await withPrevious.read({ keys: ids, marks: [] })).seen.size).toBe(64);
    const without = recordLedger(ledgerEnv("sharded", env, "8"));
    expect((await without.read({ keys: ids, marks: [] })).seen.size).toBeLessThan(64);
  });

  it("given receipts and marks past RECEIPT_RETENTION_DAYS / MARK_RETENTION_DAYS and an ended dedupe bucket, when a shard's alarm runs, then it removes them itself and keeps what is younger", async () => {
    const ledger = recordLedger({ ...ledgerEnv("sharded", env, "1"), RECEIPT_RETENTION_DAYS: "1", MARK_RETENTION_DAYS: "2" });
    const longAgo = new Date(Date.now() - 3 * 24 * HOUR);
    await ledger.write({
      dedupe: [["alarm-key", 1]],
      expiresAt: new Date(longAgo.getTime() + HOUR),
      marks: [["al", "contacts", "c1", longAgo.getTime(), "v", "poll"]],
      receipts: [{ source: "al", eventId: "evt_al", dockId: "d", stream: "events", pattern: "webhook", receivedAt: longAgo.toISOString() }],
      now: longAgo,
    });
    expect((await ledger.read({ keys: ["alarm-key"], marks: [] })).seen.size).toBe(1);
    // A write of today sets the shard's clock; it keeps its own key.
    await ledger.write({
      dedupe: [["today-key", 2]],
      expiresAt: new Date(Date.now() + HOUR),
      marks: [],
      receipts: [
        { source: "al", eventId: "evt_today", dockId: "d2", stream: "events", pattern: "webhook", receivedAt: new Date().toISOString() },
      ],
      now: new Date(),
    });
    const stub = env.LEDGER.get(env.LEDGER.idFromName("ledger-0"));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await ledger.read({ keys: ["alarm-key"], marks: [{ source: "al", stream: "contacts", key: "c1" }] })).seen.size).toBe(0);
    expect([...(await ledger.receiptsOf("al", ["evt_al", "evt_today"])).keys()]).toEqual(["evt_today"]);
    expect((await ledger.heldVersions("al", [{ stream: "contacts", key: "c1" }])).size).toBe(0);
    expect([...(await ledger.read({ keys: ["today-key"], marks: [] })).seen]).toEqual(["today-key"]);
  });
});

describe("GET /admin/ledger", () => {
  it("given records written through the sharded ledger, then the admin call answers every shard's size and rows, and D1's", async () => {
    const records = await Promise.all(Array.from({ length: 48 }, (_, i) => aRecord({ source: "adm", key: `a${i}`, receipt: `evt_a${i}` })));
    await write({ ...ledgerEnv("sharded"), RAW: env.RAW }, [aBundle(records, { source: "adm" })]);
    const ctx = createExecutionContext();
    const req = new Request("https://dock.example/admin/ledger", { headers: { authorization: "Bearer test-admin-token" } });
    const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, ledgerEnv("sharded") as never, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      ledger: { kind: string; bytes: number; rows: { dedupe: number; receipts: number }; shards: { bytes: number }[] };
      d1: { kind: string; bytes: number };
    };
    expect(body.ledger.kind).toBe("sharded");
    expect(body.ledger.shards).toHaveLength(16);
    expect(body.ledger.rows.dedupe).toBeGreaterThanOrEqual(48);
    expect(body.ledger.rows.receipts).toBeGreaterThanOrEqual(48);
    expect(body.ledger.bytes).toBe(body.ledger.shards.reduce((n, s) => n + s.bytes, 0));
    expect(body.d1).toMatchObject({ kind: "d1" });
    expect(body.d1.bytes).toBeGreaterThan(0);
  });
});
