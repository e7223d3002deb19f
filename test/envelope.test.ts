import { describe, expect, it } from "vitest";
import { dockId } from "../src/envelope/dock-id";
import { envelopeLine, payloadOf, toSingleLine } from "../src/envelope/envelope";
import { arrayElementSpans, propertyArraySpans } from "../src/envelope/json-spans";
import { isReadableKey, rawObjectKey, snapshotPartKey } from "../src/envelope/raw-keys";

describe("envelope", () => {
  it("given the same record seen twice, when ids are derived, then they are equal and independent of pattern", async () => {
    const a = await dockId("stripe", "charges", "ch_1", "evt_1");
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await dockId("stripe", "charges", "ch_1", "evt_1")).toBe(a);
    expect(await dockId("stripe", "charges", "ch_1", "evt_2")).not.toBe(a);
    expect(await dockId("stripe", "charge", "sch_1", "evt_1")).not.toBe(a);
  });

  it("matches the published vector (the sidecar computes the same function)", async () => {
    // sha256("stripe\ncharges\nch_123\nevt_9") computed independently with `printf … | sha256sum`
    expect(await dockId("stripe", "charges", "ch_123", "evt_9")).toBe("6236316f4e6777edb22fae5d34748ff6");
  });

  it("given a payload with an integer above 2^53 and odd key order, when enveloped, then its bytes survive", () => {
    const vendor = '{"z":1,"amount":9007199254740993,"a":{"b":[1,2.50,3e10]},"id":"x"}';
    const line = envelopeLine(
      {
        id: "0".repeat(32),
        source: "s",
        stream: "t",
        pattern: "webhook",
        key: "x",
        version: "1",
        op: "event",
        received_at: "t",
        run_id: "r",
      },
      { json: vendor },
    );
    expect(line.endsWith(`"data":${vendor}}`)).toBe(true);
    expect(JSON.parse(line)._dock.stream).toBe("t");
  });

  it("folds literal line breaks between tokens so one record stays one line", () => {
    const pretty = '{\n  "a": "x\\ny",\r\n  "b": 1\n}';
    const single = toSingleLine(pretty);
    expect(single).not.toMatch(/[\r\n]/);
    expect(JSON.parse(single)).toEqual(JSON.parse(pretty));
  });

  it("keeps a non-JSON body as a string and non-UTF-8 bytes as base64", () => {
    expect(payloadOf(new TextEncoder().encode("a=1&b=2")).payload).toEqual({ raw: "a=1&b=2" });
    expect(payloadOf(new Uint8Array([0xff, 0xfe, 0x00])).payload).toEqual({ rawBase64: "//4A" });
  });

  it("finds array elements and property arrays byte for byte", () => {
    const text = '[ {"a":"],}"} , 12345678901234567890 ,"s\\"x" ]';
    expect(arrayElementSpans(text).map(([s, e]) => text.slice(s, e))).toEqual(['{"a":"],}"}', "12345678901234567890", '"s\\"x"']);
    const body = '{"meta":{"data":[0]},"data":[{"id":1},{"id":2.0}]}';
    expect(propertyArraySpans(body, "data").map(([s, e]) => body.slice(s, e))).toEqual(['{"id":1}', '{"id":2.0}']);
  });

  it("lays keys out Hive-style and refuses unsafe names", () => {
    expect(
      rawObjectKey({ source: "stripe", stream: "charges", pattern: "webhook", at: new Date("2026-11-25T07:59:00Z"), batchId: "abc" }),
    ).toBe("raw/source=stripe/stream=charges/dt=2026-11-25/hr=07/webhook-abc.jsonl.gz");
    expect(snapshotPartKey("app_db", "public.orders", "run1", 3)).toBe(
      "raw/source=app_db/stream=public.orders/snapshot=run1/part-00003.jsonl.gz",
    );
    expect(() => rawObjectKey({ source: "../x", stream: "s", pattern: "poll", at: new Date(), batchId: "a" })).toThrow();
    expect(() => rawObjectKey({ source: "a", stream: "b/c", pattern: "poll", at: new Date(), batchId: "a" })).toThrow();
    expect(isReadableKey("raw/source=a/x.jsonl.gz")).toBe(true);
    expect(isReadableKey("raw/../secrets")).toBe(false);
    expect(isReadableKey("etc/passwd")).toBe(false);
  });
});
