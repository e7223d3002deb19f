import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: a sender described only by its signature has no known listing API. */
export const hmacReconcile: ReconcileSpec = {
  unsupported:
    "a generic HMAC sender is described by its signature only; no listing API is known for it. A partner that offers one gets its own source folder with a reconcile listing",
};
