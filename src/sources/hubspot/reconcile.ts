import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const hubspotReconcile: ReconcileSpec = {
  unsupported:
    "HubSpot has no API that lists webhook events or deliveries. CRM search on hs_lastmodifieddate lists objects, whose identity (object id + modified time) can never equal the webhook's portalId:subscriptionId:eventId:occurredAt, so a recovered object and a late webhook would both land. Record-level completeness belongs to a poll stream",
};
