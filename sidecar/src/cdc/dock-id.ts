import { hash } from "node:crypto";

/** The same function as src/envelope/dock-id.ts, synchronous with node:crypto. */
export function dockIdSync(source: string, stream: string, key: string, version: string): string {
  return hash("sha256", `${source}\n${stream}\n${key}\n${version}`, "hex").slice(0, 32);
}

/**
 * The same id from the UTF-8 bytes of `source\nstream\nkey\nversion`, as 64 hex characters of
 * which the id is the first 32 (the caller copies those, so no substring is made).
 */
export function dockIdHexOfBytes(input: Uint8Array): string {
  return hash("sha256", input, "hex");
}
