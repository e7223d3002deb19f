import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const segmentReconcile: ReconcileSpec = {
  unsupported:
    "Segment offers no API that lists the messages a Webhooks destination sent (Event Delivery shows counts in the dashboard only), so there is nothing to compare messageIds with",
};
