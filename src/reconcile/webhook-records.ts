/*
 * What arrived by webhook, per day, from D1's raw_objects (one row per raw object written: its key,
 * partitioned by the day its records were received, source, stream, pattern, records, written_at),
 * read per stream through its (source, stream, written_at) index. Duplicates are not counted (the
 * writer dropped them), nor what polls or reconciliation wrote.
 */

/**
 * Webhook records of a source written to the raw zone, per UTC day of receipt from `since`
 * (YYYY-MM-DD), leaving out the streams in `except`: what arrived, as the webhook receipts of an
 * event-level source would count it, for any source.
 */
export async function webhookRecordsPerDay(
  d1: D1Database,
  source: string,
  o: { except?: readonly string[]; since: string },
): Promise<Map<string, number>> {
  // The day a record was received is its object's partition (`…/dt=YYYY-MM-DD/…`, from received_at);
  // an object is written at or after that, so written_at bounds the index range.
  const { results } = await d1
    .prepare(
      `SELECT day, sum(records) AS received FROM (
         SELECT substr(r.key, instr(r.key, '/dt=') + 4, 10) AS day, r.records
         FROM stream_stats s CROSS JOIN raw_objects r ON r.source = s.source AND r.stream = s.stream AND r.written_at >= ?2
         WHERE s.source = ?1 AND s.stream NOT IN (SELECT value FROM json_each(?3)) AND r.pattern = 'webhook'
       ) WHERE day >= ?4 GROUP BY day`,
    )
    .bind(source, `${o.since}T00:00:00.000Z`, JSON.stringify(o.except ?? []), o.since)
    .all<{ day: string; received: number }>();
  return new Map(results.map((r) => [r.day, r.received]));
}
