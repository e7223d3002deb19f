import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where bundled thread scripts are kept: under the project's node_modules, writable only by whoever installed it. */
export const THREAD_CACHE = fileURLToPath(new URL("../../../node_modules/.cache/loading-dock/", import.meta.url));

interface Cached {
  inputs: string[];
  digest: string;
  script: string;
}

/**
 * A worker thread's TypeScript entry as one CommonJS script, for `new Worker(script, { eval: true })`.
 * A thread started on the .ts file itself registers tsx and loads each module through tsx's own
 * loader thread: 300–400 ms here before it encodes a row, on every run, while the table is
 * already being read. The bundle is made once by esbuild and cached with the list of files in it
 * and a digest of the bytes esbuild read: a later run whose files are unchanged starts its threads
 * in about 50 ms, and an edited file is bundled again. A cache that cannot be written only costs
 * the bundling next time. This is the source tree's way (esbuild is a devDependency, loaded only
 * here); the built sidecar (sidecar/build.mjs) ships the thread's bundle and never calls this.
 */
export async function threadScript(entry: URL, cacheDir = THREAD_CACHE): Promise<string> {
  const entryPath = fileURLToPath(entry);
  const file = path.join(cacheDir, `${createHash("sha256").update(entryPath).digest("hex").slice(0, 16)}.json`);
  const { build, version } = await import("esbuild");
  const cached = readCached(file);
  if (cached && digestOf(cached.inputs, version) === cached.digest) return cached.script;

  // esbuild reads the files through this plugin, so the digest is of exactly the bytes bundled.
  const read = new Map<string, Buffer>();
  const out = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "silent",
    plugins: [
      {
        name: "read-once",
        setup(b) {
          b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
            const contents = readFileSync(args.path);
            read.set(args.path, contents);
            return { contents, loader: /\.[cm]?ts$/.test(args.path) ? "ts" : "js" };
          });
        },
      },
    ],
  });
  const script = out.outputFiles[0]?.text;
  if (script === undefined) throw new Error(`esbuild made nothing of ${entryPath}`);
  const inputs = [...read.keys()].sort();
  const digest = digestOf(inputs, version, (p) => read.get(p) as Buffer);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${file}.${randomUUID()}.tmp`;
    writeFileSync(temp, JSON.stringify({ inputs, digest, script } satisfies Cached));
    renameSync(temp, file);
  } catch {
    // read-only install: bundled again next run
  }
  return script;
}

function readCached(file: string): Cached | null {
  try {
    const c = JSON.parse(readFileSync(file, "utf8")) as Cached;
    return Array.isArray(c.inputs) && typeof c.digest === "string" && typeof c.script === "string" ? c : null;
  } catch {
    return null;
  }
}

/** The content of every input, in order; a file gone changes it as an edit does. */
function digestOf(inputs: string[], version: string, contentOf: (file: string) => Buffer = readFileSync): string {
  const h = createHash("sha256").update(`esbuild ${version}\0`);
  for (const p of inputs) {
    h.update(p);
    h.update("\0");
    try {
      h.update(contentOf(p));
    } catch {
      h.update("gone");
    }
    h.update("\0");
  }
  return h.digest("hex");
}
