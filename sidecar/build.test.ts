import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { buildSidecar, DIST } from "./build.mjs";

describe("the committed sidecar build (sidecar/dist)", () => {
  it("given the sources as they are, when built again, then every committed file is exactly what the build makes (run npm run build:sidecar and commit sidecar/dist if not)", {
    timeout: 60_000,
  }, async () => {
    const built = (await buildSidecar()) as Map<string, string>;
    expect(readdirSync(DIST).sort()).toEqual([...built.keys()].sort());
    for (const [name, text] of built) {
      expect(readFileSync(path.join(DIST, name), "utf8") === text, `sidecar/dist/${name} is stale: run npm run build:sidecar`).toBe(true);
    }
  });
});
