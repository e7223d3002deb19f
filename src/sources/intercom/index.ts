import { defineSource } from "../define-source";
import { intercomWebhookRecords } from "./events";
import { intercomScheme } from "./signature";
import { intercomReconcile } from "./reconcile";
import { intercomAuth, intercomBaseUrl, intercomThrottle } from "./auth";
import { intercomStreams } from "./streams";

/** Intercom webhooks. Secret: the app's client secret (Developer Hub → Basic information). */
export const intercom = defineSource({
  name: "intercom",
  title: "Intercom",
  webhook: { scheme: intercomScheme, records: intercomWebhookRecords },
  reconcile: intercomReconcile,
  baseUrl: intercomBaseUrl,
  auth: intercomAuth,
  // A private app's 10,000 calls a minute (Intercom spreads them over 10-second windows).
  rateLimit: { requests: 10_000, perSeconds: 60 },
  throttle: intercomThrottle,
  streams: intercomStreams,
});
