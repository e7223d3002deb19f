import { log } from "./lib/log";
import type { Job } from "./queue-consumers/jobs-consumer";

export interface ScheduledEnv {
  JOBS: Queue<Job>;
  NIGHTLY_CRON?: string;
}

/** The frequent tick and the nightly run, told apart by the cron expression that fired. */
export async function handleScheduled(controller: { cron: string; scheduledTime: number }, env: ScheduledEnv): Promise<void> {
  const nightly = controller.cron === (env.NIGHTLY_CRON ?? "17 3 * * *");
  const jobs: Job[] = nightly ? [{ kind: "prune" }] : [];
  if (jobs.length > 0) await env.JOBS.sendBatch(jobs.map((body) => ({ body, contentType: "json" })));
  log("info", { event: nightly ? "cron.nightly" : "cron.tick", records: jobs.length });
}
