import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const salesforceReconcile: ReconcileSpec = {
  unsupported:
    "an outbound message's Notification Id (the webhook's event id) cannot be queried. SOQL on SystemModstamp lists record versions (Id + SystemModstamp), whose identity cannot equal a notification id, so a recovered record and a late message would both land. Record-level completeness belongs to a poll stream (queryAll on SystemModstamp)",
};
