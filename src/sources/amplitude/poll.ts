import { NotConfigured } from "../../pollers/not-configured";
import { unsetVariables } from "../poll-helpers";
import type { PollSource } from "../../pollers/types";
import { restAuth } from "../rest/auth";
import { exportStream } from "./export-stream";

/** Amplitude's API root; until AMPLITUDE_API_KEY is set the pull is not configured (nothing is scheduled, a stray job fails saying so). */
function exportBaseUrl(env: Record<string, unknown>): string {
  const unset = unsetVariables(env, ["AMPLITUDE_API_KEY", "AMPLITUDE_SECRET_KEY"]);
  if (unset.includes("AMPLITUDE_API_KEY")) throw new NotConfigured(`the Export API pull is not configured: set ${unset.join(", ")}`, unset);
  return env.AMPLITUDE_REGION === "eu" ? "https://analytics.eu.amplitude.com" : "https://amplitude.com";
}

/** The Export API stream: polled hourly, and read by reconciliation as its listing (reconcile.ts). */
export const amplitudeExportStream = exportStream();

/**
 * The Export API pull: stream `export_events`, hourly, Basic auth with the project's API key and secret
 * key (AMPLITUDE_API_KEY, AMPLITUDE_SECRET_KEY). See docs/sources-reports.md.
 */
export const amplitudePoll: Pick<PollSource, "baseUrl" | "auth" | "rateLimit" | "streams"> = {
  baseUrl: exportBaseUrl,
  auth: restAuth({ type: "basic", username: { env: "AMPLITUDE_API_KEY" }, password: { env: "AMPLITUDE_SECRET_KEY" } }),
  // Not published for the Export API: our own cap, one request every few seconds at the default fraction.
  rateLimit: { requests: 1, perSeconds: 2 },
  streams: [amplitudeExportStream],
};
