import { createHash } from "node:crypto";

/** The same function as src/envelope/dock-id.ts, synchronous with node:crypto. */
export function dockIdSync(source: string, stream: string, key: string, version: string): string {
  return createHash("sha256").update(`${source}\n${stream}\n${key}\n${version}`).digest("hex").slice(0, 32);
}
