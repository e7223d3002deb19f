import { defineSource } from "../define-source";
import { intercomWebhookRecords } from "./events";
import { intercomScheme } from "./signature";
import { intercomReconcile } from "./reconcile";

/** Intercom webhooks. Secret: the app's client secret (Developer Hub → Basic information). */
export const intercom = defineSource({
  name: "intercom",
  title: "Intercom",
  webhook: { scheme: intercomScheme, records: intercomWebhookRecords },
  reconcile: intercomReconcile,
});
