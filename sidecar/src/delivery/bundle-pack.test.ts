import { describe, expect, it } from "vitest";
import { recordBundleSchema } from "../../../src/envelope/bundle";
import { BUNDLE_BYTES, deliveryBody, packStream } from "./bundle-pack";

const head = { source: "app_db", stream: "public.orders", pattern: "cdc" as const, received_at: "2026-11-25T08:00:00.000Z", run_id: "r1" };
const rec = (i: number, pad: number) => ({
  id: i.toString(16).padStart(32, "0"),
  line: `{"_dock":{"id":"x"},"data":{"v":"${"é".repeat(pad)}\\n"}}`,
});

describe("packStream", () => {
  it("given many records, when packed, then every bundle is valid for the Worker, at most 110 KB, and nothing is lost or reordered", () => {
    const records = Array.from({ length: 900 }, (_, i) => rec(i, 200));
    const texts = packStream(head, records);
    expect(texts.length).toBeGreaterThan(1);
    const back = texts.flatMap((t) => {
      expect(Buffer.byteLength(t)).toBeLessThanOrEqual(BUNDLE_BYTES);
      const parsed = recordBundleSchema.parse(JSON.parse(t.toString()));
      expect(parsed).toMatchObject({ ...head, kind: "bundle", v: 1, dedupe: "bundle" });
      return parsed.records;
    });
    expect(back).toEqual(records);
    expect(JSON.parse(Buffer.concat(deliveryBody(texts)).toString()).bundles).toHaveLength(texts.length);
  });

  it("given one record larger than a bundle, when packed, then it goes alone for the Worker to claim-check", () => {
    const texts = packStream(head, [rec(1, 10), rec(2, 80_000), rec(3, 10)]);
    expect(texts.map((t) => JSON.parse(t.toString()).records.length)).toEqual([1, 1, 1]);
  });
});
