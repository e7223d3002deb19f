import { describe, expect, it } from "vitest";
import { isSafeSegment } from "../../../src/envelope/raw-keys";
import { streamName } from "./stream-name";

describe("streamName", () => {
  it("given ordinary names, when named, then it is schema.table as is", () => {
    expect(streamName("public", "orders")).toBe("public.orders");
    expect(streamName("public", "orders", "._schema")).toBe("public.orders._schema");
  });
  it("given names a raw key cannot hold, when named, then the result is safe and distinct per original", () => {
    const names = [
      streamName("public", "my table"),
      streamName("public", "my/table"),
      streamName("Ünï", ".."),
      streamName("a".repeat(63), "b".repeat(63), "._schema"),
    ];
    for (const n of names) expect(isSafeSegment(n)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });
});
