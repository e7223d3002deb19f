import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { threadScript } from "./thread-script";

let dir: string;
let entry: URL;
const cache = () => path.join(dir, "cache");

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "dock-thread-script-"));
  writeFileSync(path.join(dir, "dep.ts"), 'export const word: string = "first";\n');
  writeFileSync(
    path.join(dir, "entry.ts"),
    'import { parentPort } from "node:worker_threads";\nimport { word } from "./dep";\nparentPort?.postMessage(word);\n',
  );
  entry = pathToFileURL(path.join(dir, "entry.ts"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string): Promise<unknown> {
  const w = new Worker(script, { eval: true });
  return new Promise((resolve, reject) => {
    w.once("message", (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once("error", reject);
  });
}

/** Replaces the cached script, keeping its digest: what comes back next shows whether the cache was used. */
function markCached(): void {
  const [name] = readdirSync(cache()).filter((f) => f.endsWith(".json"));
  const file = path.join(cache(), name as string);
  const c = JSON.parse(readFileSync(file, "utf8")) as { script: string };
  c.script = 'require("node:worker_threads").parentPort.postMessage("from the cache");';
  writeFileSync(file, JSON.stringify(c));
}

describe("threadScript", () => {
  it("given a TypeScript entry importing another file, when bundled, then the script runs as a worker thread", async () => {
    expect(await run(await threadScript(entry, cache()))).toBe("first");
  });

  it("given a cached bundle and no file changed, when asked again, then the cached script is returned", async () => {
    await threadScript(entry, cache());
    markCached();
    expect(await run(await threadScript(entry, cache()))).toBe("from the cache");
  });

  it("given a cached bundle, when an imported file is edited, then it is bundled again with the edit", async () => {
    await threadScript(entry, cache());
    markCached();
    writeFileSync(path.join(dir, "dep.ts"), 'export const word: string = "second";\n');
    expect(await run(await threadScript(entry, cache()))).toBe("second");
    markCached();
    rmSync(path.join(dir, "dep.ts"));
    await expect(threadScript(entry, cache())).rejects.toThrow(/dep/);
  });

  it("given a cache directory that cannot be created, when bundled, then the script still comes back", async () => {
    writeFileSync(path.join(dir, "not-a-dir"), "");
    expect(await run(await threadScript(entry, path.join(dir, "not-a-dir", "cache")))).toBe("first");
  });

  it("given a corrupt cache file, when asked, then it is bundled again", async () => {
    await threadScript(entry, cache());
    for (const f of readdirSync(cache())) writeFileSync(path.join(cache(), f), "{not json");
    expect(await run(await threadScript(entry, cache()))).toBe("first");
  });
});
