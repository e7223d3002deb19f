import { gzipSync } from "node:zlib";

/**
 * Level 1: measured in workerd on CDC envelopes, 3.6× less CPU than CompressionStream's default
 * for objects about 11 % larger (0.092 of the text instead of 0.082) — the writer's largest cost.
 */
export async function gzip(text: string): Promise<Uint8Array> {
  return gzipSync(text, { level: 1 });
}

export async function gunzip(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}
