import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const intercomReconcile: ReconcileSpec = {
  unsupported:
    "Intercom has no API that lists webhook notifications (notif_ ids); delivery history is only shown in the Developer Hub. Contact and conversation search by updated_at lists objects, whose identity cannot equal a notification id",
};
