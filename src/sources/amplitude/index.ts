import { defineSource } from "../define-source";
import { amplitudeWebhookRecords } from "./events";
import { amplitudeScheme, HEADER_SETTING } from "./signature";
import { amplitudeReconcile } from "./reconcile";
import { amplitudePoll } from "./poll";

/** Amplitude webhook destinations (a shared secret in a header). Secret: AMPLITUDE_WEBHOOK_SECRET. */
export const amplitude = defineSource({
  name: "amplitude",
  title: "Amplitude",
  webhook: { scheme: amplitudeScheme, config: [HEADER_SETTING], records: amplitudeWebhookRecords },
  reconcile: amplitudeReconcile,
  // The hourly Export API (a ZIP of gzipped JSON lines), stream `export_events`.
  ...amplitudePoll,
});
