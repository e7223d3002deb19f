/** Pause switches. A paused source gets no scheduled runs; its webhooks are still accepted (nothing is lost). */
export async function setPaused(d1: D1Database, source: string, paused: boolean, by: string, reason: string | null, now = new Date()) {
  await d1
    .prepare(
      `INSERT INTO source_controls (source, paused, reason, changed_by, changed_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (source) DO UPDATE SET paused = excluded.paused, reason = excluded.reason,
         changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
    )
    .bind(source, paused ? 1 : 0, reason, by, now.toISOString())
    .run();
}

export async function pausedSources(d1: D1Database): Promise<Set<string>> {
  const rows = await d1.prepare("SELECT source FROM source_controls WHERE paused = 1").all<{ source: string }>();
  return new Set(rows.results.map((r) => r.source));
}

/** Jobs of paused sources are dropped from the scheduler's tick; jobs without a source (prune) pass. */
export async function withoutPausedSources<J extends object>(d1: D1Database, jobs: J[]): Promise<J[]> {
  if (jobs.length === 0) return jobs;
  const paused = await pausedSources(d1);
  if (paused.size === 0) return jobs;
  return jobs.filter((j) => !("source" in j && typeof j.source === "string" && paused.has(j.source)));
}
