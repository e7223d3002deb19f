import type { FilesEnv } from "./files/env";
import { requeueStalledFiles } from "./files/stalled";
import { log } from "./lib/log";
import { withoutPausedSources } from "./ops/controls";
import { opsTick } from "./ops/tick";
import { duePollJobs, fullRefreshJobs } from "./pollers/schedule";
import type { Job } from "./queue-consumers/jobs-consumer";
import { nightlyReconcileJobs } from "./reconcile/jobs";
import { sources } from "./sources/registry";

export interface ScheduledEnv {
  JOBS: Queue<Job>;
  DB: D1Database;
  NIGHTLY_CRON?: string;
  ALERT_WEBHOOK_URL?: string;
  ALERT_SIGNING_SECRET?: string;
}

/** The frequent tick and the nightly run, told apart by the cron expression that fired. */
export async function handleScheduled(controller: { cron: string; scheduledTime: number }, env: ScheduledEnv): Promise<void> {
  const nightly = controller.cron === (env.NIGHTLY_CRON ?? "17 3 * * *");
  const now = new Date(controller.scheduledTime);
  const planned: Job[] = nightly
    ? [
        { kind: "prune" },
        ...fullRefreshJobs(sources, env as unknown as Record<string, unknown>, now),
        // Reconciliation: one job per webhook source (a not-reconcilable one records that in the ledger).
        ...nightlyReconcileJobs(sources, now),
      ]
    : await duePollJobs(env.DB, sources, env as unknown as Record<string, unknown>, now);
  // Operations: a paused source gets no scheduled runs.
  const jobs = await withoutPausedSources(env.DB, planned);
  for (let i = 0; i < jobs.length; i += 100) {
    await env.JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body, contentType: "json" })));
  }
  log("info", { event: nightly ? "cron.nightly" : "cron.tick", records: jobs.length });
  // Files: a parse whose continuation was lost (or dead-lettered) is queued again.
  if (!nightly) await requeueStalledFiles(env as unknown as FilesEnv, 30, now);
  // Operations: alerts on state changes (de-duplicated in D1), on every tick.
  await opsTick(env, sources, now);
}
