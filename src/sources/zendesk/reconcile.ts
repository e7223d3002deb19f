import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const zendeskReconcile: ReconcileSpec = {
  unsupported:
    "not wired yet: Zendesk lists a webhook's invocations (GET /api/v2/webhooks/{id}/invocations, with the request of each attempt), which could recover what is missing; until that listing is built and tested, nothing here claims completeness",
};
