// Mirrors a bucket's raw zone through R2's S3 API (ListObjectsV2 + GetObject, SigV4-signed) into a
// local folder with the same keys. Objects in the raw zone are only ever added, so a key already
// here with the listed size is not fetched again.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { copyTarget } from "../../scripts/raw-pull.mjs";
import { signV4, uriEncode } from "./sigv4.mjs";

/** R2's S3 endpoint of an account, unless one is given (`--s3-endpoint`, for another S3-compatible store or a test). */
export function r2Endpoint({ endpoint, accountId }) {
  if (endpoint) return endpoint.replace(/\/+$/, "");
  if (!accountId) throw new Error("no R2 account: set CLOUDFLARE_ACCOUNT_ID (or --account-id), or give --s3-endpoint");
  return `https://${accountId}.r2.cloudflarestorage.com`;
}

const XML_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescapeXml = (text) =>
  text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e) =>
    e[0] === "#" ? String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))) : XML_ENTITIES[e],
  );
const tag = (xml, name) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
};

/** One page of ListObjectsV2: its objects (key, size) and the token of the next page. */
export function parseListPage(xml) {
  const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, c]) => ({
    key: tag(c, "Key"),
    size: Number(tag(c, "Size")),
  }));
  const truncated = tag(xml, "IsTruncated") === "true";
  return { objects, next: truncated ? tag(xml, "NextContinuationToken") : undefined };
}

async function s3Get(conn, path, query = {}) {
  const url = `${conn.endpoint}${path}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ""}`;
  const headers = signV4({ method: "GET", url, accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey, region: "auto" });
  let res;
  try {
    res = await fetch(url, { headers });
  } catch (err) {
    throw new Error(`cannot reach ${conn.endpoint} (${err.cause?.code ?? err.message})`);
  }
  if (!res.ok) {
    const body = await res.text();
    const code = tag(body, "Code");
    throw new Error(`S3 GET ${path} failed: HTTP ${res.status}${code ? ` ${code}: ${tag(body, "Message") ?? ""}` : ""}`);
  }
  return res;
}

/**
 * Copies every object under `prefix` of `bucket` into `dir` (same keys), fetching only what is
 * missing. Returns how many objects were fetched and how many were already there.
 */
export async function mirrorBucket({ endpoint, bucket, accessKeyId, secretAccessKey, dir, prefix = "raw/", concurrency = 8 }) {
  if (!accessKeyId || !secretAccessKey)
    throw new Error("no R2 S3 credentials: set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY (an R2 API token with Object Read on the bucket)");
  const conn = { endpoint, accessKeyId, secretAccessKey };
  const root = resolve(dir);
  const bucketPath = `/${uriEncode(bucket)}`;
  const wanted = [];
  const keys = [];
  let skipped = 0;
  let token;
  do {
    const query = { "list-type": "2", prefix, ...(token ? { "continuation-token": token } : {}) };
    const page = parseListPage(await (await s3Get(conn, bucketPath, query)).text());
    for (const object of page.objects) {
      keys.push(object.key);
      const target = copyTarget(root, object);
      if (target === null) skipped++;
      else wanted.push({ key: object.key, target });
    }
    token = page.next;
  } while (token);

  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const { key, target } = wanted[next++];
      const res = await s3Get(conn, `${bucketPath}/${uriEncode(key, true)}`);
      mkdirSync(dirname(target), { recursive: true });
      // Written aside then renamed: an interrupted copy never looks complete.
      writeFileSync(`${target}.part`, Buffer.from(await res.arrayBuffer()));
      renameSync(`${target}.part`, target);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, wanted.length) }, worker));
  return { pulled: wanted.length, skipped, root, keys };
}
