import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const amplitudeReconcile: ReconcileSpec = {
  unsupported:
    "Amplitude's Export API gives events by upload hour, 2 hours or more late, as a ZIP that Workers cannot unpack natively; and events without an insert_id are identified here by a hash of the bytes the webhook sent, which an export would not reproduce",
};
