import { defineSource } from "../define-source";
import { segmentWebhookRecords } from "./events";
import { segmentScheme } from "./signature";
import { segmentReconcile } from "./reconcile";

/** Segment's Webhooks destination pointed at /webhooks/segment. Secret: the destination's shared secret. */
export const segment = defineSource({
  name: "segment",
  title: "Segment (Webhooks destination)",
  webhook: { scheme: segmentScheme, records: segmentWebhookRecords },
  reconcile: segmentReconcile,
});
