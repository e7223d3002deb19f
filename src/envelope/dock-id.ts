import { sha256HexSync } from "../lib/sha256-sync";

/**
 * The deterministic record id: the first 32 hex digits of
 * sha256(source "\n" stream "\n" key "\n" version).
 * The pattern is deliberately not part of it: a webhook, a poll and a reconciliation that see the
 * same version of the same record must produce the same id. The sidecar computes the same
 * function with node:crypto (sidecar tests compare both on fixed vectors).
 * Hashed in plain JS (src/lib/sha256-sync.ts): for a hundred bytes that is several times cheaper
 * in workerd than a WebCrypto call and its await.
 */
export function dockIdSync(source: string, stream: string, key: string, version: string): string {
  return sha256HexSync(`${source}\n${stream}\n${key}\n${version}`, 32);
}

/** dockIdSync for callers that await it. */
export async function dockId(source: string, stream: string, key: string, version: string): Promise<string> {
  return dockIdSync(source, stream, key, version);
}
