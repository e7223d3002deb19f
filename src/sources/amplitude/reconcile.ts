import type { ReconcileSpec } from "../../reconcile/types";

/**
 * Not reconcilable by record (see docs/reconciliation.md, "Why Amplitude stays at the volume
 * guard"). The listing is no longer what stops it: stepped streams can be listings
 * (src/reconcile/record-steps.ts), and the Export stream could serve once it reads the window's
 * start (handed over as ISO, while export-stream.ts takes only a `YYYYMMDDTHH` cursor) and a
 * versionTime reads `server_upload_time` (`YYYY-MM-DD HH:MM:SS.ffffff`). What stops it is identity:
 * an exported event is filed under `export_events` keyed by `uuid`, a webhook event under `events`
 * keyed by `insert_id` / `$insert_id` / `uuid` (whatever the operator's payload template carries,
 * else a hash), with no time in its version, so no webhook feeds the mark of an exported event.
 * The hourly Export poll itself lands every event Amplitude ingested, whatever the webhook lost.
 */
export const amplitudeReconcile: ReconcileSpec = {
  unsupported:
    "a webhook event cannot be matched to an exported one: it is filed under events, keyed by insert_id (or whatever id its payload template carries, else a hash) with no time, while the Export API, which record-level reconciliation could now read as a stepped listing, files events under export_events keyed by uuid; making them meet means re-filing webhook events (a contract change) and requiring every payload template to carry uuid and server_upload_time. The hourly export_events poll lands every event Amplitude ingested, whatever the webhook lost",
};
