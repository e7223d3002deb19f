import type { ReconcileSpec } from "../../reconcile/types";

/**
 * Not reconcilable by record either (see docs/reconciliation.md, "Why Amplitude stays at the volume
 * guard"): the record-level engine reads listings as paged poll streams (planPages/readPage), and
 * the Export API is a stepped stream (a ZIP of gzipped JSON lines read by code, export-stream.ts);
 * and an exported event (stream `export_events`, keyed by `uuid`) cannot be matched to its webhook
 * (stream `events`, keyed by whatever id the operator's payload template carries, else a hash).
 * The hourly Export poll itself lands every event Amplitude ingested, whatever the webhook lost.
 */
export const amplitudeReconcile: ReconcileSpec = {
  unsupported:
    "Amplitude's Export API is read as a stepped stream (a ZIP of JSON lines by upload hour), which record-level reconciliation cannot list, and a webhook event carries only the fields its payload template gives (uuid/insert_id not guaranteed) so it cannot be matched to an exported event; the hourly export_events poll lands every event Amplitude ingested, whatever the webhook lost",
};
