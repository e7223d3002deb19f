import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { FilesEnv } from "../../src/files/env";
import type { LedgerRow } from "../../src/files/ledger";
import { type EnvelopeLine, readEnvelopes } from "../helpers/raw-zone";

export const TOKEN = "acme-files-token-0123456789";
/** The Worker's env with a files token for `source` (and any overrides). */
export const filesEnv = (source: string, over: Partial<FilesEnv> & Record<string, unknown> = {}) =>
  ({ ...env, [`${source.toUpperCase()}_FILES_TOKEN`]: TOKEN, ...over }) as unknown as FilesEnv & Env;

const app = createApp();

export function putFile(
  source: string,
  name: string,
  body: Uint8Array | string | ReadableStream<Uint8Array>,
  opts: {
    token?: string | null;
    headers?: Record<string, string>;
    query?: string;
    env?: FilesEnv & Env;
    length?: number;
    method?: string;
  } = {},
): Promise<Response> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  const length = opts.length ?? (bytes instanceof Uint8Array ? bytes.byteLength : undefined);
  if (length !== undefined) headers["content-length"] = String(length);
  const url = `https://dock.example/files/${source}/${encodeURIComponent(name)}${opts.query ?? ""}`;
  return Promise.resolve(app.fetch(new Request(url, { method: opts.method ?? "PUT", headers, body: bytes }), opts.env ?? filesEnv(source)));
}

export async function ledgerRows(source: string): Promise<LedgerRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM file_ledger WHERE source = ? ORDER BY landed_at, key")
    .bind(source)
    .all<LedgerRow>();
  return results;
}

/** Waits until the file's parse steps are done (the local JOBS queue delivers on its own). */
export async function waitParsed(key: string, timeoutMs = 20_000): Promise<LedgerRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await env.DB.prepare("SELECT * FROM file_ledger WHERE key = ?").bind(key).first<LedgerRow>();
    if (row && row.status !== "parsing") return row;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${key} to be parsed; ledger: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The envelopes of one stream of a source, sorted by line. */
export async function streamEnvelopes(source: string, stream: string, count: number, timeoutMs = 20_000): Promise<EnvelopeLine[]> {
  const prefix = `raw/source=${source}/stream=${stream}/`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const envelopes = await readEnvelopes(prefix);
    if (envelopes.length >= count) return envelopes.sort((a, b) => Number(a._dock.line) - Number(b._dock.line));
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} records under ${prefix}; have ${envelopes.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let unique = 0;
/** A source name of its own per test, so raw-zone reads do not see other tests' records. */
export function freshSource(): string {
  return `acme${Date.now().toString(36)}${++unique}`;
}

/** A JOBS stand-in that keeps the parse steps, so a test can run them one by one with its own settings. */
export function heldJobs() {
  const jobs: unknown[] = [];
  const queue = {
    async send(body: unknown) {
      jobs.push(body);
    },
    async sendBatch(messages: Iterable<{ body: unknown }>) {
      for (const m of messages) jobs.push(m.body);
    },
  } as unknown as Queue<unknown>;
  return { queue, jobs };
}

/** Runs the held parse steps until none is left; returns how many ran. */
export async function runHeldSteps(held: ReturnType<typeof heldJobs>, stepEnv: FilesEnv, limit = 10_000): Promise<number> {
  const { runParseStep } = await import("../../src/files/parse-step");
  const { fileParseJobSchema } = await import("../../src/files/jobs");
  let steps = 0;
  while (held.jobs.length > 0) {
    if (++steps > limit) throw new Error(`more than ${limit} parse steps`);
    await runParseStep(stepEnv, fileParseJobSchema.parse(held.jobs.shift()));
  }
  return steps;
}

export function latin1(text: string): Uint8Array {
  return Uint8Array.from([...text].map((c) => c.charCodeAt(0)));
}

export async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}
