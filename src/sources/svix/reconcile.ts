import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const svixReconcile: ReconcileSpec = {
  unsupported:
    "Standard Webhooks defines no listing API. Svix's message list (GET /api/v1/app/{app_id}/msg, whose ids are the webhook-id values) belongs to the sender's Svix account: a receiver holds no token for it",
};
