import { describe, expect, it } from "vitest";
import { dockId } from "../../src/envelope/dock-id";
import { rowDockId } from "../../src/files/envelopes";

describe("file row ids", () => {
  it("given the same source, stream, key and version, then the synchronous row id equals dockId", async () => {
    for (const [source, stream, key, version] of [
      ["acme", "orders", "orders.csv#2", "a".repeat(64)],
      ["stripe", "charges", "ch_123", "evt_9"],
      ["x", "y.sheet_1", "book.xlsx#Zoë!5", "0"],
    ] as const) {
      expect(rowDockId(source, stream, key, version)).toBe(await dockId(source, stream, key, version));
    }
    expect(rowDockId("stripe", "charges", "ch_123", "evt_9")).toBe("6236316f4e6777edb22fae5d34748ff6");
  });
});
