import { describe, expect, it } from "vitest";
import { dockId } from "../../../src/envelope/dock-id";
import { dockIdSync } from "./dock-id";

describe("dockIdSync", () => {
  it("given the shared vector, when computed with node:crypto, then it matches the fixed value and the Worker's WebCrypto function", async () => {
    expect(dockIdSync("stripe", "charges", "ch_123", "evt_9")).toBe("6236316f4e6777edb22fae5d34748ff6");
    for (const [s, st, k, v] of [
      ["stripe", "charges", "ch_123", "evt_9"],
      ["app_db", "public.orders", '["42","eu"]', "0/16B3748#2"],
      ["app_db", "public.ünïcode", "ключ", "1/0"],
    ] as const) {
      expect(dockIdSync(s, st, k, v)).toBe(await dockId(s, st, k, v));
    }
  });
});
