import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Pattern } from "../../src/envelope/envelope";
import { writeBundles } from "../../src/queue-consumers/raw-writer";
import { isoVersionTime, type TrackedObjects } from "../../src/reconcile/objects";
import { aBundle, aRecord } from "../helpers/fixtures";
import { ledgerOf, ledgerRows } from "../helpers/ledger";
import { readEnvelopes } from "../helpers/raw-zone";

/** A source that tracks its `things` stream; versions are `<ISO>|<digest>` (polls) or `evt:<ms>` (webhook events). */
const things: TrackedObjects = {
  streams: ["things"],
  versionTime: (v) => (v.startsWith("evt:") ? Number(v.split(":")[2]) : isoVersionTime(v)),
};
const tracked = (source: string) => (source.startsWith("ov") ? things : undefined);
const at = (iso: string) => `${iso}|0123456789abcdef`;

async function write(source: string, pattern: Pattern, records: { key: string; version: string; stream?: string }[]) {
  const built = await Promise.all(
    records.map((r) => aRecord({ source, stream: r.stream ?? "things", key: r.key, version: r.version, pattern })),
  );
  const byStream = new Map<string, typeof built>();
  records.forEach((r, i) => {
    const stream = r.stream ?? "things";
    byStream.set(stream, [...(byStream.get(stream) ?? []), built[i] as (typeof built)[0]]);
  });
  const bundles = [...byStream].map(([stream, list]) => aBundle(list, { source, stream, pattern }));
  return writeBundles(env, bundles, { retentionHours: 1, tracked, now: new Date("2026-11-25T08:00:00Z") });
}

/** The marks the configured record ledger holds for a source, by key. */
async function marks(source: string) {
  return (await ledgerRows("object_versions"))
    .filter((r) => r.source === source)
    .map((r) => ({ stream: r.stream, key: r.key, version: r.version, version_ms: r.version_ms, pattern: r.pattern }))
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

describe("per-object high-water mark (object_versions, kept by the raw writer)", () => {
  it("given versions of one object written newest, older, then newer again, then the mark holds the newest and only tracked streams get rows", async () => {
    await write("ov1", "poll", [{ key: "a", version: at("2026-11-25T07:00:00.000Z") }]);
    await write("ov1", "webhook", [{ key: "a", version: "evt:1:1764054000000" }]); // 07:00 minus 1 h: older
    expect((await marks("ov1")).map((m) => m.version)).toEqual([at("2026-11-25T07:00:00.000Z")]);

    await write("ov1", "webhook", [
      { key: "a", version: `evt:2:${Date.parse("2026-11-25T07:30:00.000Z")}` },
      { key: "b", version: at("2026-11-25T06:00:00.000Z") },
      { key: "c", version: "no-time-in-it" },
      { key: "d", version: at("2026-11-25T06:00:00.000Z"), stream: "other" },
    ]);
    expect(await marks("ov1")).toEqual([
      {
        stream: "things",
        key: "a",
        version: `evt:2:${Date.parse("2026-11-25T07:30:00.000Z")}`,
        version_ms: Date.parse("2026-11-25T07:30:00.000Z"),
        pattern: "webhook",
      },
      {
        stream: "things",
        key: "b",
        version: at("2026-11-25T06:00:00.000Z"),
        version_ms: Date.parse("2026-11-25T06:00:00.000Z"),
        pattern: "webhook",
      },
    ]);
  });

  it("given two versions of one object in the same batch, out of order, then the newer one is the mark", async () => {
    await write("ov2", "poll", [
      { key: "x", version: at("2026-11-25T07:10:00.000Z") },
      { key: "x", version: at("2026-11-25T07:05:00.000Z") },
    ]);
    expect((await marks("ov2")).map((m) => m.version)).toEqual([at("2026-11-25T07:10:00.000Z")]);
  });

  it("given a source that tracks nothing, then its writes add no mark", async () => {
    await write("plain", "poll", [{ key: "a", version: at("2026-11-25T07:00:00.000Z") }]);
    expect(await marks("plain")).toEqual([]);
  });

  it("given an object recovered by reconciliation, when its late webhook of that version or an older one arrives, then it lands nothing; a webhook of a newer change still lands", async () => {
    const t = Date.parse("2026-11-25T07:00:00.000Z");
    await write("ov3", "reconcile", [{ key: "r", version: at("2026-11-25T07:00:00.000Z") }]);
    const late = await write("ov3", "webhook", [
      { key: "r", version: `evt:9:${t}` },
      { key: "r", version: `evt:8:${t - 60_000}` },
    ]);
    expect(late).toMatchObject({ written: 0, duplicates: 2, covered: 2 });
    const newer = await write("ov3", "webhook", [{ key: "r", version: `evt:10:${t + 1}` }]);
    expect(newer).toMatchObject({ written: 1, covered: 0 });
    expect((await readEnvelopes("raw/source=ov3/")).map((e) => e._dock.pattern).sort()).toEqual(["reconcile", "webhook"]);
  });

  it("given an object held by a poll, when a webhook of the same change arrives, then it still lands (only reconciliation's marks cover)", async () => {
    const t = Date.parse("2026-11-25T07:00:00.000Z");
    await write("ov4", "poll", [{ key: "p", version: at("2026-11-25T07:00:00.000Z") }]);
    expect(await write("ov4", "webhook", [{ key: "p", version: `evt:1:${t}` }])).toMatchObject({ written: 1, covered: 0 });
  });

  it("given 250 objects (past D1's 100 bound parameters), then one call answers which are held and at what version", async () => {
    const records = Array.from({ length: 250 }, (_, i) => ({
      key: `k${i}`,
      version: at(new Date(Date.UTC(2026, 10, 25, 0, 0, i)).toISOString()),
    }));
    await write("ov5", "poll", records.slice(0, 200));
    const held = await ledgerOf().heldVersions(
      "ov5",
      records.map((r) => ({ stream: "things", key: r.key })),
    );
    expect(held.size).toBe(200);
    expect(held.get("things\nk199")).toMatchObject({ version: records[199]?.version, pattern: "poll" });
    expect(held.has("things\nk200")).toBe(false);
  });
});
