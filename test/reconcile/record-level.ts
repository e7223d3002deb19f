import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../../src/index";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { ledgerRows } from "../helpers/ledger";
import { readEnvelopes } from "../helpers/raw-zone";
import { recordingQueue } from "./helpers";

/** The raw zone's lines of a source (or of one of its prefixes) whose object key is one of these ids. */
export async function rawLinesOf(source: string, ids: ReadonlySet<string>, prefix = `raw/source=${source}/`) {
  return (await readEnvelopes(prefix)).filter((e) => ids.has(e._dock.key as string));
}

/** Polls `read` until it returns at least `count` lines, as the raw writer lands them asynchronously. */
export async function pollLines<T>(read: () => Promise<T[]>, count: number, timeoutMs: number, everyMs: number): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await read();
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} lines; have ${lines.length}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The version marks (the record ledger's object_versions) a source holds for these keys, by key; only one stream's when given. */
export async function objectMarks(source: string, ids: readonly string[], stream?: string) {
  const wanted = new Set(ids);
  const results = (await ledgerRows("object_versions")).filter(
    (r) => r.source === source && (stream === undefined || r.stream === stream) && wanted.has(r.key as string),
  ) as { stream: string; key: string; version_ms: number; pattern: string }[];
  return new Map(results.map((r) => [r.key, { stream: r.stream, key: r.key, version_ms: r.version_ms, pattern: r.pattern }]));
}

/** A source's reconcile ledger row for the UTC day `from` (an ISO instant) falls in, or null. */
export async function ledgerOfDay(source: string, from: string) {
  return env.DB.prepare("SELECT * FROM reconcile_ledger WHERE source = ?1 AND day = ?2")
    .bind(source, from.slice(0, 10))
    .first<{ expected: number; received: number; recovered: number; missing: number; status: string; unit: string }>();
}

/** Runs one reconcile job of `source` over `window` through the jobs consumer, as the JOBS queue delivers it. */
export async function runReconcileJob(jobsEnv: unknown, source: string, window: Record<string, unknown>): Promise<void> {
  const batch = createMessageBatch("loading-dock-jobs", [
    { id: `rec-${source}-1`, timestamp: new Date(), attempts: 1, body: { kind: "reconcile", source, ...window } },
  ]);
  await processJobsBatch(jobsEnv as never, batch);
}

/** A vendor API fixture: answers `fetch` while a reconcile runs. */
interface VendorApi {
  handle: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

/** One reconcile step of `source`, with the vendor's API fixture answering every request it makes. */
export async function reconcileStepWith(
  api: VendorApi,
  runEnv: Parameters<typeof runReconcileStep>[0],
  source: Parameters<typeof runReconcileStep>[1],
  clock: NonNullable<Parameters<typeof runReconcileStep>[3]>["clock"],
) {
  vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
  try {
    return await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name }, { clock });
  } finally {
    vi.restoreAllMocks();
  }
}

/** An operator's POST /admin/sources/:source/reconcile of a window, waiting for the answer, with the vendor's API fixture answering. */
export async function adminReconcile(
  source: string,
  window: { from: string; to: string },
  api: VendorApi,
  settings: Record<string, string>,
) {
  vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
  try {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://dock.example/admin/sources/${source}/reconcile`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ ...window, wait: true }),
      }) as Request<unknown, IncomingRequestCfProperties>,
      { ...env, ...settings, INGEST: recordingQueue() } as never,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  } finally {
    vi.restoreAllMocks();
  }
}
