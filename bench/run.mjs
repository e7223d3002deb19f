#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ one after another (never in parallel: they share
// two cores) and each rewrites its own section of bench/RESULTS.md. `npm run bench -- poll` runs
// only those whose file name contains "poll".
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const only = process.argv.slice(2);
const files = readdirSync(import.meta.dirname)
  .filter((f) => /\.(mjs|ts)$/.test(f) && f !== "run.mjs" && !f.endsWith(".test.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const runner = file.endsWith(".ts") ? ["node_modules/.bin/tsx", [join("bench", file)]] : ["node", [join("bench", file)]];
  const r = spawnSync(runner[0], runner[1], {
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} failed (exit ${r.status})`);
  }
}
console.log(`\n${files.length - failed} benchmarks ran, ${failed} failed; see bench/RESULTS.md`);
process.exit(failed ? 1 : 0);
