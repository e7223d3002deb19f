import * as z from "zod";
import { log } from "../lib/log";
import type { SourceDefinition } from "../sources/define-source";
import { newReconcileRunId, type ReconcileEnv, type ReconcileJob, runReconcileStep } from "./run-reconcile";

/** The JOBS kind: reconcile one source, nightly (no window) or over an operator's window; `run_id` continues a run. */
export const reconcileJobSchema = z.object({
  kind: z.literal("reconcile"),
  source: z.string().min(1).max(63),
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
});

/** A source that no longer exists or takes no webhooks is logged and dropped; other errors go back to the queue. */
export function reconcileJobHandler(find: (name: string) => SourceDefinition | undefined) {
  return async (env: unknown, job: z.infer<typeof reconcileJobSchema>): Promise<void> => {
    const source = find(job.source);
    if (!source?.webhook) {
      log("error", { event: "reconcile.unknown_source", source: job.source, pattern: "reconcile" });
      return;
    }
    await runReconcileStep(env as ReconcileEnv, source, job as ReconcileJob);
  };
}

/** The nightly run's reconciliations: one job per webhook source (a not-reconcilable one records that it is). */
export function nightlyReconcileJobs(sources: readonly SourceDefinition[], now: Date): ReconcileJob[] {
  return sources.filter((s) => s.webhook).map((s) => ({ kind: "reconcile", source: s.name, run_id: newReconcileRunId(now) }));
}
