// Where `dock query` reads from: a folder as it is (--dir), or a local copy of a raw zone kept in
// a cache folder and brought up to date before each query — through the Worker's admin API (local
// `wrangler dev` or deployed) or straight from the bucket through R2's S3 API (--s3).
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { rawPull } from "../../scripts/raw-pull.mjs";
import { mirrorBucket, r2Endpoint } from "./r2-s3.mjs";

/** The raw zone's bucket as wrangler.toml names it (the R2 binding RAW), if there is one here. */
export function configuredBucket(root = process.cwd()) {
  const file = join(root, "wrangler.toml");
  if (!existsSync(file)) return undefined;
  for (const block of readFileSync(file, "utf8")
    .split(/^\[\[r2_buckets\]\]\s*$/m)
    .slice(1)) {
    const body = block.split(/^\[/m)[0];
    if (/^\s*binding\s*=\s*"RAW"/m.test(body)) return /^\s*bucket_name\s*=\s*"([^"]+)"/m.exec(body)?.[1];
  }
  return undefined;
}

const slug = (text) => text.replace(/^https?:\/\//, "").replace(/[^A-Za-z0-9._-]+/g, "_");

/** Removes files under `prefix` of the copy that the listing no longer has (a wiped local state, a cut-short download). */
function pruneTo(root, prefix, keys) {
  const keep = new Set(keys);
  const base = join(root, prefix);
  if (!existsSync(base)) return 0;
  let removed = 0;
  const files = readdirSync(base, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  for (const file of files) {
    const path = join(file.parentPath, file.name);
    const key = relative(root, path).split("\\").join("/");
    if (!keep.has(key)) {
      rmSync(path);
      removed++;
    }
  }
  return removed;
}

/**
 * Brings a local copy up to date and returns its folder. `opts`: dir (use as is), s3 (bucket via
 * its S3 API), cache (folder of the copy), pull (false: the copy as it is), prefix.
 * `connect()` gives the admin API's { url, token } when it is needed.
 */
export async function lakeCopy(opts, connect, env = process.env, log = (line) => process.stderr.write(`${line}\n`)) {
  if (opts.dir) {
    const dir = resolve(opts.dir);
    if (!existsSync(dir)) throw new Error(`no folder ${dir}`);
    return dir;
  }
  const prefix = opts.prefix ?? "raw/";
  if (!prefix.startsWith("raw/")) throw new Error(`--prefix must be under raw/, got ${JSON.stringify(prefix)}`);
  let target;
  let pull;
  if (opts.s3) {
    const bucket = opts.bucket ?? env.DOCK_R2_BUCKET ?? configuredBucket();
    if (!bucket) throw new Error("no bucket: pass --bucket or set DOCK_R2_BUCKET");
    const endpoint = r2Endpoint({
      endpoint: opts.s3Endpoint ?? env.R2_S3_ENDPOINT,
      accountId: opts.accountId ?? env.CLOUDFLARE_ACCOUNT_ID,
    });
    target = `${endpoint}/${bucket}`;
    pull = (dir) =>
      mirrorBucket({ endpoint, bucket, accessKeyId: env.R2_ACCESS_KEY_ID, secretAccessKey: env.R2_SECRET_ACCESS_KEY, dir, prefix });
  } else {
    const conn = connect();
    target = conn.url;
    pull = (dir) => rawPull({ ...conn, dir, prefix });
  }
  const dir = resolve(opts.cache ?? join(".dock", "lake", slug(target)));
  if (opts.pull === false) {
    log(`querying the copy in ${dir} as it is (not pulled)`);
    return dir;
  }
  const { pulled, skipped, keys } = await pull(dir);
  const removed = pruneTo(dir, prefix, keys);
  log(`pulled ${pulled} new objects from ${target} (${skipped} already in ${dir}${removed ? `; ${removed} no longer there removed` : ""})`);
  return dir;
}
