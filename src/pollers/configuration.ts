import { errorText } from "../lib/log";
import { PollFailure } from "./http";
import { InvalidSetting, NotConfigured } from "./not-configured";
import type { PollSource } from "./types";

/**
 * The API root of a source. `<SOURCE>_API_BASE` (e.g. `STRIPE_API_BASE`) overrides it for every
 * poll and listing of that source: a regional endpoint, an egress proxy, or a local fake in a soak.
 * Whatever keeps it from being an http(s) URL is a NotConfigured (InvalidSetting when it is set but
 * is not a URL): a run of it fails, not its job.
 */
export function baseUrlOf(source: PollSource, env: Record<string, unknown>): string {
  const overrideName = `${source.name.toUpperCase()}_API_BASE`;
  const override = env[overrideName];
  let url: string | undefined;
  try {
    url = typeof override === "string" && override ? override : typeof source.baseUrl === "function" ? source.baseUrl(env) : source.baseUrl;
  } catch (err) {
    if (err instanceof PollFailure) throw err;
    throw new NotConfigured(`source ${source.name}: its base URL cannot be worked out: ${errorText(err)}`);
  }
  if (!url) throw new NotConfigured(`source ${source.name} has no base URL`);
  if (!isHttpUrl(url)) {
    const from = typeof override === "string" && override ? ` (from ${overrideName})` : "";
    throw new InvalidSetting(`source ${source.name}: base URL ${JSON.stringify(url.slice(0, 200))}${from} is not an http(s) URL`);
  }
  return url;
}

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

export interface ConfigurationProblem {
  /** What is wrong and what to set, as one sentence for a run's error or an API answer. */
  error: string;
  /** The variables to set (alternatives joined by " or "); empty when the source did not say. */
  missing: string[];
}

/**
 * What keeps a source from running here, or null when nothing does: a base URL that cannot be
 * worked out (its variable unset, not a URL) and credentials whose variables are unset. Asked
 * before a run starts and before an admin run-now queues one, so neither half-runs.
 */
export function configurationProblem(source: PollSource, env: Record<string, unknown>): ConfigurationProblem | null {
  const parts: string[] = [];
  const missing: string[] = [];
  try {
    baseUrlOf(source, env);
  } catch (err) {
    const text = errorText(err);
    parts.push(text.startsWith(`source ${source.name}`) ? text : `source ${source.name}: ${text}`);
    if (err instanceof NotConfigured) missing.push(...err.settings);
  }
  const credentials = (source.auth?.missing?.(env) ?? []).filter((name) => !missing.includes(name));
  if (credentials.length > 0) {
    // Names last: redaction reads the word after a name such as *_TOKEN as its value.
    parts.push(`${parts.length === 0 ? `source ${source.name} is not configured: ` : ""}its credentials need ${credentials.join(", ")}`);
    missing.push(...credentials);
  }
  return parts.length === 0 ? null : { error: parts.join("; "), missing };
}

/**
 * What a run reads from its source before the first request, or the error that ends the run: the
 * configuration problem, or whatever reading it threw. Nothing here does I/O, so what throws would
 * throw again on every retry of the job: the run fails with the reason instead of staying running.
 */
export function prepareRun<T>(source: PollSource, env: Record<string, unknown>, read: () => T): { value: T } | { error: string } {
  const problem = configurationProblem(source, env);
  if (problem) return { error: problem.error };
  try {
    return { value: read() };
  } catch (err) {
    return {
      error: err instanceof PollFailure ? err.message : `source ${source.name}: its configuration cannot be read: ${errorText(err)}`,
    };
  }
}
