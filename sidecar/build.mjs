// Builds the sidecars into sidecar/dist/ (committed), so a production install
// (`npm ci --omit=dev`: no tsx, no esbuild) runs them with plain `node`:
//   node sidecar/build.mjs          (npm run build:sidecar)
// Entry points are ES modules that import the production dependencies (pg, zod, commander,
// mongodb, ssh2) from node_modules; the full refresh's worker thread is one self-contained
// CommonJS script the entry point reads next to itself. sidecar/build.test.ts fails when the
// committed files differ from what this makes of the sources.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DIST = path.join(ROOT, "sidecar", "dist");

/** Built file → its source entry point. */
export const ENTRIES = {
  "main.mjs": "sidecar/src/main.ts",
  "db-pull.mjs": "sidecar/src/db-pull.ts",
  "mongo-main.mjs": "sidecar/src/mongo-main.ts",
  "sftp.mjs": "sidecar/sftp/main.ts",
};
const THREAD = { "copy-encode-thread.cjs": "sidecar/src/pull/copy-encode-thread.ts" };

const banner = (source) =>
  `// Built from ${source} by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.`;

const common = {
  absWorkingDir: ROOT,
  bundle: true,
  write: false,
  platform: "node",
  target: "node20",
  logLevel: "silent",
  legalComments: "inline",
};

/** Every built file's name and text, made from the sources now. */
export async function buildSidecar() {
  const out = new Map();
  for (const [file, source] of Object.entries(ENTRIES)) {
    const r = await build({
      ...common,
      entryPoints: [source],
      format: "esm",
      packages: "external",
      define: { DOCK_BUILT_THREAD_SCRIPT: JSON.stringify(`./${Object.keys(THREAD)[0]}`) },
      banner: { js: banner(source) },
      outfile: path.join(DIST, file),
    });
    out.set(file, onlyText(r));
  }
  for (const [file, source] of Object.entries(THREAD)) {
    // Bundled whole (no external package): it runs as `new Worker(text, { eval: true })`.
    const r = await build({
      ...common,
      entryPoints: [source],
      format: "cjs",
      banner: { js: banner(source) },
      outfile: path.join(DIST, file),
    });
    out.set(file, onlyText(r));
  }
  return out;
}

function onlyText(result) {
  const [file, ...more] = result.outputFiles;
  if (!file || more.length > 0) throw new Error(`expected one output file, got ${result.outputFiles.length}`);
  return file.text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildSidecar();
  mkdirSync(DIST, { recursive: true });
  for (const name of readdirSync(DIST)) if (!files.has(name)) rmSync(path.join(DIST, name));
  for (const [name, text] of files) writeFileSync(path.join(DIST, name), text);
  console.log(`built ${[...files.keys()].map((f) => `sidecar/dist/${f}`).join(", ")}`);
}
