import * as z from "zod";
import { STATES } from "./states";

/**
 * The shape of `GET /status` (and of `GET /admin/health`, its freshness half): snake_case keys
 * throughout, and only what an operator acts on — no run state, page tokens, leases or heartbeats
 * of the machinery. `GET /status/schema` publishes it as JSON Schema (z.toJSONSchema), and a test
 * validates a real answer against these schemas, which are strict: a field added to the answer
 * without being added here fails it.
 */

const iso = z.string().describe("ISO 8601 time");
const nullableIso = iso.nullable();

export const freshnessPatternSchema = z.enum(["webhook", "poll", "full_refresh", "file", "cdc"]);
export const streamStateSchema = z.enum(STATES);

export const runSummarySchema = z.strictObject({
  id: z.string().describe("run id, as in `dock runs` and the run_id of log lines"),
  status: z.string().describe("running | succeeded | failed | paused"),
  pattern: z.string(),
  started_at: iso,
  finished_at: nullableIso,
  records: z.number().int(),
  error: z
    .string()
    .nullable()
    .describe("why the run failed; on a running run, the error its last job attempt failed with (the job is being retried)"),
});

export const streamHealthSchema = z.strictObject({
  source: z.string(),
  stream: z.string(),
  pattern: freshnessPatternSchema,
  state: streamStateSchema,
  reason: z.string().describe("the judgement in one sentence: why the stream is in its state"),
  lag_seconds: z.number().int().nullable(),
  slo_seconds: z.number().int(),
  slo_origin: z.enum(["declared", "default"]),
  zero_record_runs: z.number().int(),
  paused: z.boolean(),
  records_total: z.number().int(),
  last_received_at: nullableIso,
  last_run: runSummarySchema.nullable(),
  last_success_at: nullableIso,
  run_records: z.array(z.number().int()).describe("records of the recent finished runs, newest first"),
  dlq: z.number().int().describe("parked dead letters naming this stream"),
  records_per_hour: z
    .array(z.number().int())
    .describe("records written per hour over the last 7 days (168 entries), oldest first; the last is the current hour (UTC)"),
});

export const sidecarHealthSchema = z.strictObject({
  source: z.string(),
  slot: z.string(),
  condition: z.enum(["ok", "slot-lag", "silent", "failing"]),
  reason: z.string(),
  state: z.string().nullable(),
  slot_lag_bytes: z.number().nullable(),
  wal_status: z.string().nullable(),
  safe_wal_size: z.number().nullable(),
  heartbeat_at: nullableIso,
  durable_lsn: z.string().nullable(),
  error: z.string().nullable(),
  reported_at: iso,
});

export const reconciliationGapSchema = z.strictObject({
  source: z.string(),
  stream: z.string().nullable(),
  day: z.string(),
  missing: z.number().int(),
  status: z.string(),
  detail: z.string().nullable(),
});

export const notConfiguredSchema = z.strictObject({
  source: z.string(),
  error: z.string().describe("what keeps the source from running here, in one sentence"),
  missing: z.array(z.string()).describe('the variables to set (alternatives joined by " or ")'),
});

export const fleetStatusSchema = z.strictObject({
  ok: z.boolean(),
  generated_at: iso,
  problems: z.array(z.string()),
  streams: z.array(streamHealthSchema),
  sidecars: z.array(sidecarHealthSchema),
  dlq: z.record(z.string(), z.number().int()).describe("open (parked, not re-driven) dead letters per queue"),
  gaps: z.array(reconciliationGapSchema),
  not_configured: z.array(notConfiguredSchema).describe("sources that cannot run here, and what to set"),
});

export const streamTotalsSchema = z.strictObject({
  source: z.string(),
  stream: z.string(),
  records: z.number().int(),
  objects: z.number().int(),
  bytes: z.number().int(),
  first_received_at: iso,
  last_received_at: iso,
  last_written_at: iso,
});

export const sourceTotalsSchema = z.strictObject({
  source: z.string(),
  records: z.number().int(),
  last_received_at: z.string(),
  streams: z.array(streamTotalsSchema),
});

export const recentRunSchema = runSummarySchema.extend({ source: z.string(), stream: z.string() });

export const ledgerDaySchema = z.strictObject({
  day: z.string(),
  status: z.string(),
  expected: z.number().int().nullable(),
  received: z.number().int().nullable(),
  recovered: z.number().int().nullable(),
  missing: z.number().int().nullable(),
  window_from: nullableIso,
  window_to: nullableIso,
  run_id: z.string().nullable(),
  detail: z.string().nullable(),
  unit: z.string().describe("event: listed events vs webhook receipts; record: listed objects vs versions held (received = held)"),
});

export const volumeCheckSchema = z.strictObject({
  day: z.string(),
  received: z.number().int(),
  median: z.number(),
  share: z.number().nullable(),
  flagged: z.boolean().describe("the day's webhooks fell below 30% of the trailing 7-day median"),
});

export const sourceReconciliationSchema = z.strictObject({
  source: z.string(),
  reconcilable: z.boolean(),
  reason: z.string().optional(),
  history_days: z.number().int().optional(),
  reconciled_to: nullableIso,
  last_run_id: z.string().nullable(),
  last_status: z.string().nullable(),
  last_error: z.string().nullable(),
  last_finished_at: nullableIso,
  unrecoverable: z.strictObject({ from: iso, to: iso }).nullable(),
  days: z.array(ledgerDaySchema),
  volume: volumeCheckSchema.nullable().optional().describe("not reconcilable only: the volume guard"),
  unlisted: z
    .strictObject({ what: z.string().describe("what its listing cannot cover"), volume: volumeCheckSchema.nullable() })
    .optional()
    .describe("reconcilable, but some of its webhooks cannot be listed: their own volume guard"),
});

export const statusSchema = fleetStatusSchema
  .extend({
    sources: z.array(sourceTotalsSchema),
    recent_runs: z.array(recentRunSchema).describe("the 20 newest runs of any stream"),
    reconciliation: z.array(sourceReconciliationSchema),
  })
  .describe("GET /status: is every stream fresh, complete and healthy");

export type RunSummary = z.infer<typeof runSummarySchema>;
export type StreamHealth = z.infer<typeof streamHealthSchema>;
export type SidecarHealthView = z.infer<typeof sidecarHealthSchema>;
export type NotConfiguredSource = z.infer<typeof notConfiguredSchema>;
export type FleetStatus = z.infer<typeof fleetStatusSchema>;
export type StatusResponse = z.infer<typeof statusSchema>;

/** The JSON Schema `GET /status/schema` answers. */
export function statusJsonSchema() {
  return z.toJSONSchema(statusSchema, { target: "draft-2020-12" });
}
