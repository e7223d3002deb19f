import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const klaviyoReconcile: ReconcileSpec = {
  unsupported:
    "Klaviyo's Events API (GET /api/events) lists metric events, but nothing documents that their ids equal the external_id of a system-webhook item; matching on a guess would either land events twice or hide losses",
};
