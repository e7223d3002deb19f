/** The fields every log line carries (README "Logs"): a value where the event has one, else null. */
export const COMMON_FIELDS = ["source", "stream", "pattern", "run_id", "records", "ms", "error"] as const;
export type CommonField = (typeof COMMON_FIELDS)[number];

const RUN = ["source", "stream", "pattern", "run_id"] as const;

/**
 * Every event the Worker logs through log(), and the common fields it always has a value for; the
 * others are null on its lines. log()'s type takes only these events and requires these fields,
 * so an event logged without its fields, or a new event not listed here, does not compile, and
 * cli/log-discipline.test.ts checks this list against the events the code logs.
 *
 * Not listed: what a stepped stream logs through its context (`ctx.log`, src/pollers/types.ts),
 * which carries its run's source, stream, pattern and run_id by construction (logStep).
 */
export const LOG_EVENTS = {
  "admin.audit_failed": ["error"],
  "alert.sent": [],
  "alert.failed": ["error"],
  "cdc.accepted": ["pattern", "records", "ms"],
  "cdc.enqueue_failed": ["pattern", "error", "ms"],
  "cron.tick": ["records"],
  "cron.nightly": ["records"],
  "dedupe.pruned": ["records", "ms"],
  "dlq.parked": [],
  "dlq.redrive_failed": ["error"],
  "dlq.redriven": ["records"],
  "file.rejected": ["source", "pattern", "ms"],
  "file.put.landed": ["source", "pattern", "run_id", "ms"],
  "file.put.duplicate": ["source", "pattern", "run_id", "ms"],
  "file.put.failed": ["source", "pattern", "error", "ms"],
  "file.landed": ["source", "stream", "pattern", "run_id"],
  "file.duplicate": ["source", "pattern", "run_id"],
  "file.step": [...RUN, "records", "ms"],
  "file.parsed": [...RUN, "records", "ms"],
  "file.failed": [...RUN, "error"],
  "file.requeued": RUN,
  "file.event_invalid": ["error"],
  "file.event_ignored": ["error"],
  "file.event_gone": ["source"],
  "file.event.landed": ["source", "pattern", "run_id"],
  "file.event.duplicate": ["source", "pattern", "run_id"],
  "file.event_failed": ["source", "pattern", "error"],
  "http.unhandled": ["error"],
  "job.invalid": ["error"],
  "job.failed": ["error"],
  "job.note_failed": ["pattern", "run_id", "error"],
  "ops.tick": ["records", "ms"],
  "ops.tick_failed": ["error", "ms"],
  "poll.unknown_stream": ["source", "stream", "pattern"],
  "poll.skipped_busy": RUN,
  "poll.started": RUN,
  "poll.continued": [...RUN, "records"],
  "poll.deferred": [...RUN, "records"],
  "poll.superseded": RUN,
  "poll.succeeded": [...RUN, "records", "ms"],
  "poll.failed": [...RUN, "error"],
  "poll.paused": [...RUN, "error"],
  "poll.test_read": [...RUN, "records", "ms"],
  "poll.test_read_failed": [...RUN, "records", "ms", "error"],
  "raw.written": ["source", "stream", "pattern", "records", "ms"],
  "raw.duplicates_dropped": ["records"],
  "raw.batch_failed": ["records", "error", "ms"],
  "raw.manifest_waiting": RUN,
  "raw.manifest_written": [...RUN, "records"],
  "raw.manifest_failed": [...RUN, "error"],
  "raw.message_quarantined": ["error"],
  "reconcile.unknown_source": ["source", "pattern"],
  "reconcile.not_reconcilable": ["source", "pattern", "run_id", "error"],
  "reconcile.skipped_busy": ["source", "pattern", "run_id"],
  "reconcile.refused": ["source", "pattern", "run_id", "error"],
  "reconcile.started": ["source", "pattern", "run_id"],
  "reconcile.continued": ["source", "pattern", "run_id"],
  "reconcile.deferred": ["source", "pattern", "run_id"],
  "reconcile.superseded": ["source", "pattern", "run_id"],
  "reconcile.succeeded": ["source", "pattern", "run_id", "records", "ms"],
  "reconcile.failed": ["source", "pattern", "run_id", "records", "error"],
  "sidecar.health": ["source", "pattern"],
  "sidecar.health_failed": ["source", "pattern", "error"],
  "sidecar.rejected": ["pattern", "error"],
  "webhook.rejected": ["source", "pattern", "ms"],
  "webhook.accepted": ["source", "pattern", "run_id", "records", "ms"],
  "webhook.kept_raw": ["source", "pattern", "run_id", "records", "ms"],
  "webhook.unreconcilable_records": ["source", "pattern", "records", "error"],
  "webhook.enqueue_failed": ["source", "pattern", "error", "ms"],
} as const satisfies Record<string, readonly CommonField[]>;

export type LogEvent = keyof typeof LOG_EVENTS;
