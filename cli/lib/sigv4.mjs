// AWS Signature Version 4 for S3-style GET requests (R2's S3 API takes it with region "auto").
import { createHash, createHmac } from "node:crypto";

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const hmac = (key, text) => createHmac("sha256", key).update(text).digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX. */
export function uriEncode(text, keepSlash = false) {
  return [...new TextEncoder().encode(text)]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) return c;
      return `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

const amzDate = (now) =>
  now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/**
 * The headers that sign `method url` (plus `headers`, which are signed too) for an empty body:
 * x-amz-date, x-amz-content-sha256 and authorization. `url`'s path is already encoded as it is
 * sent; its query is re-encoded canonically.
 */
export function signV4({ method, url, headers = {}, accessKeyId, secretAccessKey, region, service = "s3", now = new Date() }) {
  const u = new URL(url);
  const date = amzDate(now);
  const all = { ...lowerKeys(headers), host: u.host, "x-amz-date": date, "x-amz-content-sha256": EMPTY_SHA256 };
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(all[n]).trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const query = [...u.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [method, u.pathname || "/", query, canonicalHeaders, signedHeaders, EMPTY_SHA256].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    "x-amz-date": date,
    "x-amz-content-sha256": EMPTY_SHA256,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`,
  };
}

function lowerKeys(headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
