import * as z from "zod";
import { type LedgerEnv, recordLedger } from "../ledger";
import type { FilesEnv } from "../files/env";
import { fileParseJobSchema } from "../files/jobs";
import { runParseStep } from "../files/parse-step";
import { errorText, log } from "../lib/log";
import { fullRefreshJobSchema, pollJobHandler, pollJobSchema } from "../pollers/jobs";
import { reconcileJobHandler, reconcileJobSchema } from "../reconcile/jobs";
import { findSource } from "../sources/registry";
import { clearJobFailure, noteJobFailure } from "./job-failures";
import { retryDelaySeconds } from "./retry-delay";

export const jobSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("prune") }),
  fileParseJobSchema,
  pollJobSchema,
  fullRefreshJobSchema,
  reconcileJobSchema,
]);
export type Job = z.infer<typeof jobSchema>;

export interface JobsEnv extends LedgerEnv {
  DB: D1Database;
}

type Handler<K extends Job["kind"]> = (env: JobsEnv, job: Extract<Job, { kind: K }>) => Promise<void>;

const handlers: { [K in Job["kind"]]: Handler<K> } = {
  prune: async (env) => {
    const started = Date.now();
    // D1: expired dedupe keys deleted in slices; shards: each drops its ended buckets and old receipts and marks (they also do so by alarm).
    const removed = await recordLedger(env).prune();
    log("info", { event: "dedupe.pruned", records: removed, ms: Date.now() - started });
  },
  // Batch files: one parse step of a landed file; it queues its own continuation.
  file_parse: (env, job) => runParseStep(env as JobsEnv & FilesEnv, job),
  // Poll engine: an incremental poll or a full refresh, each re-enqueuing its own continuation.
  poll: pollJobHandler(findSource),
  full_refresh: pollJobHandler(findSource),
  // Reconciliation: one step of a source's run (vendor listing vs. receipts); it queues its own continuation.
  reconcile: reconcileJobHandler(findSource),
};

/**
 * How many of a batch's jobs run at once. Streams queued together should not wait behind one run
 * of up to a minute, but an invocation has 6 simultaneous outgoing connections: four jobs, each
 * holding at most one vendor body open (a streamed export), leave room for D1, R2 and queue calls.
 * Jobs of one source still share its rate gate (the Durable Object), so running them together
 * never sends that source more than its allowance.
 */
export const JOBS_AT_ONCE = 4;

/** The JOBS consumer: each message is one unit of work, run up to JOBS_AT_ONCE at a time; a failed one is retried alone, with jitter. */
export async function processJobsBatch(env: JobsEnv, batch: MessageBatch<unknown>, atOnce = JOBS_AT_ONCE): Promise<void> {
  const queue = [...batch.messages];
  const lane = async () => {
    for (let message = queue.shift(); message; message = queue.shift()) await processJob(env, message);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, atOnce), queue.length) }, lane));
}

/** One message: acked when its job is done (or can never be done), retried alone when it failed. Never throws. */
async function processJob(env: JobsEnv, message: Message<unknown>): Promise<void> {
  const parsed = jobSchema.safeParse(message.body);
  if (!parsed.success) {
    log("error", { event: "job.invalid", error: parsed.error.issues[0]?.message ?? "invalid job" });
    message.ack();
    return;
  }
  const job = parsed.data;
  try {
    await (handlers[job.kind] as Handler<typeof job.kind>)(env, job);
    message.ack();
    await clearJobFailure(env.DB, job, message.attempts);
  } catch (err) {
    const run = job as { source?: string; stream?: string; run_id?: string };
    log("error", {
      event: "job.failed",
      source: run.source ?? null,
      stream: run.stream ?? null,
      pattern: job.kind === "prune" ? null : job.kind === "file_parse" ? "file" : job.kind,
      run_id: run.run_id ?? null,
      job: job.kind,
      error: errorText(err),
      attempts: message.attempts,
    });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    await noteJobFailure(env.DB, job, message.attempts, errorText(err));
  }
}
