import { log } from "./lib/log";
import { duePollJobs, fullRefreshJobs } from "./pollers/schedule";
import type { Job } from "./queue-consumers/jobs-consumer";
import { sources } from "./sources/registry";

export interface ScheduledEnv {
  JOBS: Queue<Job>;
  DB: D1Database;
  NIGHTLY_CRON?: string;
}

/** The frequent tick and the nightly run, told apart by the cron expression that fired. */
export async function handleScheduled(controller: { cron: string; scheduledTime: number }, env: ScheduledEnv): Promise<void> {
  const nightly = controller.cron === (env.NIGHTLY_CRON ?? "17 3 * * *");
  const now = new Date(controller.scheduledTime);
  const jobs: Job[] = nightly
    ? [
        { kind: "prune" },
        ...fullRefreshJobs(sources, env as unknown as Record<string, unknown>, now),
        // Reconciliation jobs (one per source with a reconciler) are added here by the reconciler.
      ]
    : await duePollJobs(env.DB, sources, env as unknown as Record<string, unknown>, now);
  for (let i = 0; i < jobs.length; i += 100) {
    await env.JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body, contentType: "json" })));
  }
  log("info", { event: nightly ? "cron.nightly" : "cron.tick", records: jobs.length });
}
