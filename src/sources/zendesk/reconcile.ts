import type { ReconcileSpec } from "../../reconcile/types";

/** Not reconcilable: the ledger says so every night, with this reason (see docs/reconciliation.md). */
export const zendeskReconcile: ReconcileSpec = {
  unsupported:
    "Zendesk documents a listing of a webhook's invocations and of each attempt's request (GET /api/v2/webhooks/{webhook_id}/invocations and …/attempts), which could recover what is missing; but its response shape, how long it keeps invocations, and whether an invocation id equals the X-Zendesk-Webhook-Invocation-Id header (or the event id of an event-subscribed body) could not be confirmed from the documentation at hand, so it is not wired and nothing here claims completeness",
};
