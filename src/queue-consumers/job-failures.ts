import { errorText, log, redact } from "../lib/log";

/** A job that carries the run it works for (poll, full refresh, reconcile). */
type RunJob = { kind: string; run_id?: string; source?: string; stream?: string };

const runIdOf = (job: RunJob) => (typeof job.run_id === "string" && job.run_id ? job.run_id : null);

/**
 * Notes on the job's run why its last attempt failed, while the queue retries it: the run stays
 * `running`, and without this the only trace of the error would be a log line. The status judges
 * a stream by it ("why is this stream stuck?"), and `dock runs` shows it. A finished run is never
 * touched, and the run's own end (or abandonment) writes its error over this one.
 */
export async function noteJobFailure(d1: D1Database, job: RunJob, attempts: number, error: string, now = new Date()): Promise<void> {
  const runId = runIdOf(job);
  if (!runId) return;
  const text = `job attempt ${attempts} failed at ${now.toISOString()}: ${redact(error).slice(0, 1500)}`;
  await quietly(job, runId, () => d1.prepare("UPDATE runs SET error = ?2 WHERE id = ?1 AND status = 'running'").bind(runId, text).run());
}

/** After a retried attempt succeeded: the run is moving again, so the failure noted on it is gone. */
export async function clearJobFailure(d1: D1Database, job: RunJob, attempts: number): Promise<void> {
  const runId = runIdOf(job);
  if (!runId || attempts <= 1) return;
  await quietly(job, runId, () =>
    d1.prepare("UPDATE runs SET error = NULL WHERE id = ?1 AND status = 'running' AND error LIKE 'job attempt %'").bind(runId).run(),
  );
}

/** D1 may be what failed the job: a note that cannot be written is logged, never thrown. */
async function quietly(job: RunJob, runId: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    log("warn", {
      event: "job.note_failed",
      source: job.source,
      stream: job.stream,
      pattern: job.kind,
      run_id: runId,
      error: errorText(err),
    });
  }
}
