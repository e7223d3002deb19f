import { env } from "cloudflare:workers";
import { gunzip } from "../../src/queue-consumers/gzip";

export interface EnvelopeLine {
  _dock: Record<string, unknown> & { id: string; source: string; stream: string; pattern: string; op: string };
  data?: unknown;
  raw?: string;
  raw_base64?: string;
}

export async function listKeys(prefix = "raw/"): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.RAW.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Every line of every object under a prefix, as text, in key order. */
export async function readLines(prefix = "raw/"): Promise<string[]> {
  const lines: string[] = [];
  for (const key of (await listKeys(prefix)).sort()) {
    if (!key.endsWith(".jsonl.gz")) continue;
    const object = await env.RAW.get(key);
    if (!object) continue;
    const text = await gunzip(await object.arrayBuffer());
    lines.push(...text.split("\n").filter((l) => l.length > 0));
  }
  return lines;
}

export async function readEnvelopes(prefix = "raw/"): Promise<EnvelopeLine[]> {
  return (await readLines(prefix)).map((l) => JSON.parse(l) as EnvelopeLine);
}

/** Waits until the raw zone holds at least `count` records under `prefix` (the local queue delivers on its own). */
export async function waitForRecords(prefix: string, count: number, timeoutMs = 60_000): Promise<EnvelopeLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const envelopes = await readEnvelopes(prefix);
    if (envelopes.length >= count) return envelopes;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${count} records under ${prefix}; have ${envelopes.length}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function clearBucket(): Promise<void> {
  for (const prefix of ["raw/", "files/", "blobs/", "quarantine/"]) {
    const keys = await listKeys(prefix);
    for (let i = 0; i < keys.length; i += 1000) await env.RAW.delete(keys.slice(i, i + 1000));
  }
}
