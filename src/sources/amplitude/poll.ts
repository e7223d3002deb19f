import { PollFailure } from "../../pollers/http";
import type { PollSource } from "../../pollers/types";
import { restAuth } from "../rest/auth";
import { exportStream } from "./export-stream";

/** Amplitude's API root; until AMPLITUDE_API_KEY is set the pull is not configured (nothing is scheduled, a stray job fails saying so). */
function exportBaseUrl(env: Record<string, unknown>): string {
  if (typeof env.AMPLITUDE_API_KEY !== "string" || env.AMPLITUDE_API_KEY === "") {
    throw new PollFailure("the Export API pull is not configured: set AMPLITUDE_API_KEY, AMPLITUDE_SECRET_KEY");
  }
  return env.AMPLITUDE_REGION === "eu" ? "https://analytics.eu.amplitude.com" : "https://amplitude.com";
}

/**
 * The Export API pull: stream `export_events`, hourly, Basic auth with the project's API key and secret
 * key (AMPLITUDE_API_KEY, AMPLITUDE_SECRET_KEY). See docs/sources-reports.md.
 */
export const amplitudePoll: Pick<PollSource, "baseUrl" | "auth" | "rateLimit" | "streams"> = {
  baseUrl: exportBaseUrl,
  auth: restAuth({ type: "basic", username: { env: "AMPLITUDE_API_KEY" }, password: { env: "AMPLITUDE_SECRET_KEY" } }),
  // Not published for the Export API: our own cap, one request every few seconds at the default fraction.
  rateLimit: { requests: 1, perSeconds: 2 },
  streams: [exportStream()],
};
