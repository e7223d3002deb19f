import { describe, expect, it } from "vitest";
import {
  asPlainRecordBundle,
  ingestMessageFastSchema,
  ingestMessageSchema,
  isPlainRecordList,
  jsonBytes,
  recordBundleFastSchema,
  recordBundleSchema,
  safeParseFast,
} from "../src/envelope/bundle";
import { seeded } from "../src/lib/seeded";

const ID = "0123456789abcdef0123456789abcdef";

/** Records as a careless or hostile producer might shape them: mostly fine, each field sometimes wrong. */
function aRecord(rand: () => number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  if (rand() < 0.03) return pick([null, 7, "x", [ID, "{}"], true]);
  const r: Record<string, unknown> = {};
  if (rand() > 0.02) r.id = pick([ID, ID, ID, ID.toUpperCase(), ID.slice(1), `${ID}0`, 12, `${ID.slice(0, 31)}g`, `${ID}\n`]);
  if (rand() > 0.02) r.line = pick(['{"a":1}', '{"a":1}', "{}", "x", "", 5, null, "é😀".repeat(3)]);
  const receipt = rand();
  if (receipt < 0.2) r.receipt = pick(["evt_1", "", "r".repeat(512), "r".repeat(513), 9, null]);
  else if (receipt < 0.23) r.receipt = undefined;
  if (rand() < 0.05) r[pick(["extra", "__proto__x", "constructor", "Id"])] = "surplus";
  return r;
}

function aBundle(rand: () => number): unknown {
  const records = Array.from({ length: Math.floor(rand() * 5) }, () => aRecord(rand));
  return {
    kind: "bundle",
    v: 1,
    source: "app_db",
    stream: "public.t",
    pattern: "cdc",
    received_at: "2026-12-01T00:00:00.000Z",
    dedupe: "bundle",
    records: rand() < 0.02 ? "not a list" : records,
  };
}

describe("bundle schemas: the fast twins", () => {
  it("given 5,000 random bundles, when parsed fast-then-full, then the verdict, data and error equal zod's alone", () => {
    const rand = seeded(20261201);
    let plain = 0;
    for (let n = 0; n < 5_000; n++) {
      const bundle = aBundle(rand);
      for (const [fast, full] of [
        [recordBundleFastSchema, recordBundleSchema],
        [ingestMessageFastSchema, ingestMessageSchema],
      ] as const) {
        const expected = full.safeParse(bundle);
        const got = safeParseFast<unknown>(fast, full, bundle);
        expect(got.success).toBe(expected.success);
        if (expected.success) expect(got.data).toStrictEqual(expected.data);
        else expect(got.error?.issues[0]).toStrictEqual(expected.error.issues[0]);
      }
      const records = (bundle as { records: unknown }).records;
      if (isPlainRecordList(records)) {
        plain++;
        // Whatever the fast check accepts, zod accepts unchanged.
        expect(recordBundleSchema.parse(bundle).records).toStrictEqual(records);
      }
    }
    // The generator must exercise both sides of the fast check.
    expect(plain).toBeGreaterThan(500);
    expect(plain).toBeLessThan(4_500);
  });

  it("given 5,000 bundles with random headers, when checked plain, then whatever it accepts zod accepts unchanged", () => {
    const rand = seeded(20261207);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    let accepted = 0;
    let refused = 0;
    for (let n = 0; n < 5_000; n++) {
      const b: Record<string, unknown> = {
        ...(aBundle(rand) as object),
        records: rand() < 0.9 ? [{ id: ID, line: '{"a":1}', receipt: "evt_1" }] : [{ id: ID, line: "{}", extra: 1 }],
      };
      delete b.dedupe;
      const vary = (key: string, values: unknown[]) => {
        if (rand() < 0.15) b[key] = pick(values);
      };
      vary("kind", ["blob", "manifest", undefined, 1]);
      vary("v", [2, "1", 0, undefined]);
      vary("source", ["stripe", "a/b", "..", "", "x".repeat(40), 5, "é"]);
      vary("stream", ["events", "a b", "..x", null]);
      vary("pattern", ["webhook", "poll", "reconcile", "Webhook", "", null]);
      vary("received_at", ["2026-12-07T19:00:00.000Z", "", "t".repeat(64), "t".repeat(65), 17]);
      vary("run_id", ["r1", "", "r".repeat(128), "r".repeat(129), 3, undefined, null]);
      vary("dedupe", ["record", "bundle", "none", undefined]);
      vary("snapshot", [
        { run_id: "r1", part: 0 },
        { run_id: "r1", part: 3 },
        { run_id: "r1", part: -1 },
        { run_id: "r1", part: 1.5 },
        { run_id: "a/b", part: 1 },
        { run_id: "r1", part: 1, extra: true },
        { run_id: "r1" },
        null,
        [],
      ]);
      vary("extra", ["surplus"]);
      const plain = asPlainRecordBundle(b);
      const zod = recordBundleSchema.safeParse(b);
      if (plain) {
        accepted++;
        expect(plain).toBe(b);
        expect(zod.success && zod.data).toStrictEqual(b);
      } else refused++;
    }
    // Both sides of the check are exercised.
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it("given a record with a key zod strips, when parsed fast-then-full, then it is accepted without that key", () => {
    const bundle = { ...(aBundle(seeded(1)) as object), records: [{ id: ID, line: "{}", extra: 1 }] };
    expect(isPlainRecordList(bundle.records)).toBe(false);
    const got = safeParseFast(recordBundleFastSchema, recordBundleSchema, bundle);
    expect(got.success && got.data.records).toStrictEqual([{ id: ID, line: "{}" }]);
  });

  it("given values of every size, when measured, then jsonBytes equals the UTF-8 length of their JSON", () => {
    const encoder = new TextEncoder();
    for (const value of [
      {},
      { s: 'é😀\u2028"\\'.repeat(1000) },
      { s: "x".repeat(256 * 1024 - 8) },
      { s: "x".repeat(256 * 1024) },
      { s: "é".repeat(200_000) },
      { s: "😀".repeat(90_000) },
    ])
      expect(jsonBytes(value)).toBe(encoder.encode(JSON.stringify(value)).byteLength);
  });
});
