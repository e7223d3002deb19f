import { sha256Hex } from "../lib/crypto";

/**
 * The deterministic record id: the first 32 hex digits of
 * sha256(source "\n" stream "\n" key "\n" version).
 * The pattern is deliberately not part of it: a webhook, a poll and a reconciliation that see the
 * same version of the same record must produce the same id. The sidecar computes the same
 * function with node:crypto (sidecar tests compare both on fixed vectors).
 */
export async function dockId(source: string, stream: string, key: string, version: string): Promise<string> {
  const hex = await sha256Hex(`${source}\n${stream}\n${key}\n${version}`);
  return hex.slice(0, 32);
}
