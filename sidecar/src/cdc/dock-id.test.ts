import { describe, expect, it } from "vitest";
import { dockId } from "../../../src/envelope/dock-id";
import { ByteWriter } from "../delivery/byte-writer";
import { DockIdWriter, dockIdSync } from "./dock-id";

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

describe("DockIdWriter", () => {
  it("given inputs of repeating and growing lengths, when ids are written into a buffer, then each is dockIdSync's", () => {
    // A 16-byte writer grows under the longer keys: views cached for the old buffer must not be reused.
    const ids = new DockIdWriter(new ByteWriter(16));
    const out = Buffer.alloc(40);
    for (const key of ["1", "2", "10", "ключ", "k".repeat(300), "3", "x".repeat(5000), "4"]) {
      ids.input.pos = 0;
      ids.input.utf8(`app_db\npublic.t\n${key}\nrun-1`);
      expect(ids.write(out, 4)).toBe(36);
      expect(out.toString("latin1", 4, 36)).toBe(dockIdSync("app_db", "public.t", key, "run-1"));
    }
  });
});
