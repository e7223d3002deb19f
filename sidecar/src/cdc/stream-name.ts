import { createHash } from "node:crypto";

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `<schema>.<table>` as a raw-zone stream name. Postgres allows any character in a name; the raw
 * zone allows letters, digits, `_ . -`. Other characters become `_` and, since that could make
 * two tables collide, a changed name gets a short hash of the original appended.
 */
export function streamName(schema: string, table: string, suffix = ""): string {
  const original = `${schema}.${table}${suffix}`;
  if (SAFE.test(original) && !original.includes("..")) return original;
  const hash = createHash("sha256").update(original).digest("hex").slice(0, 8);
  let cleaned = original.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/\.{2,}/g, "_");
  if (!/^[A-Za-z0-9_]/.test(cleaned)) cleaned = `_${cleaned}`;
  return `${cleaned.slice(0, 118)}-${hash}`;
}
