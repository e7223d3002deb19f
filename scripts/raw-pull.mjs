#!/usr/bin/env node
// Copies the raw zone (local `wrangler dev` or a deployed Worker) into a folder with the same keys,
// so DuckDB reads it with hive_partitioning (`dock query --dir` does).
// Usage: npm run raw:pull -- ./lake [--url URL] [--prefix raw/]
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { loadDevVars } from "./dev-vars.mjs";

/**
 * Where a listed object goes in a local copy of the raw zone (same key under `root`), or null when
 * a file of its size is already there. A key that would leave the folder is refused.
 */
export function copyTarget(root, object) {
  const target = resolve(root, object.key);
  if (!target.startsWith(root + sep)) throw new Error(`refusing a key outside the folder: ${object.key}`);
  try {
    if (statSync(target).size === object.size) return null;
  } catch {}
  return target;
}

export async function rawPull({ dir, url, token, prefix = "raw/" }) {
  const root = resolve(dir);
  let cursor = null;
  let pulled = 0;
  let skipped = 0;
  const keys = [];
  do {
    const q = new URLSearchParams({ prefix, ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${url}/admin/raw?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`listing ${prefix} failed: HTTP ${res.status}`);
    const page = await res.json();
    for (const object of page.objects) {
      keys.push(object.key);
      const target = copyTarget(root, object);
      if (target === null) {
        skipped++;
        continue;
      }
      const got = await fetch(`${url}/admin/raw/${object.key.split("/").map(encodeURIComponent).join("/")}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!got.ok) throw new Error(`fetching ${object.key} failed: HTTP ${got.status}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, Buffer.from(await got.arrayBuffer()));
      pulled++;
    }
    cursor = page.cursor;
  } while (cursor);
  return { pulled, skipped, root, keys };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : fallback;
  };
  const url = flag("--url", process.env.DOCK_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
  const prefix = flag("--prefix", "raw/");
  const token = flag("--token", process.env.DOCK_ADMIN_TOKEN ?? loadDevVars().ADMIN_TOKEN);
  const dir = args[0] ?? "./lake";
  const { pulled, skipped, root } = await rawPull({ dir, url, token, prefix });
  console.log(`pulled ${pulled} objects (${skipped} already there) into ${root}`);
  console.log(`read them: npm run dock -- query --dir ${root} "SELECT source, stream, count(*) FROM raw GROUP BY ALL"`);
}
