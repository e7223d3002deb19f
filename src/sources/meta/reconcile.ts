import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const metaReconcile: ReconcileSpec = {
  unsupported:
    "Meta keeps no listing of the notifications it sent and gives a change no id (its identity here is a hash of the entry's bytes, which no API reproduces)",
};
