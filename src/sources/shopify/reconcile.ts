import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const shopifyReconcile: ReconcileSpec = {
  unsupported:
    "No Admin API lists webhook deliveries or their X-Shopify-Event-Id. The Events resource (events.json) has ids of its own, and object lists by updated_at give versions whose identity cannot equal event id + topic, so a recovered object and a late webhook would both land. Record-level completeness belongs to a poll stream on updated_at_min",
};
