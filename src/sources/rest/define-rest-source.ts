import { NotConfigured } from "../../pollers/not-configured";
import { defineSource, type SourceDefinition } from "../define-source";
import { restAuth } from "./auth";
import { withMissingCheck } from "./auth-settings";
import { describeIssues, type RestSourceConfig, restSourceConfig } from "./config";

/**
 * A source defined only by data: base URL, auth, rate limit and streams, checked by zod when the
 * Worker loads, so a typo fails the deploy with the field's name instead of a run at 3 am.
 */
export function defineRestSource(config: RestSourceConfig): SourceDefinition {
  const parsed = restSourceConfig.safeParse(config);
  if (!parsed.success) {
    const name = typeof (config as { name?: unknown })?.name === "string" ? (config as { name: string }).name : "?";
    throw new Error(`REST source ${name}: ${describeIssues(parsed.error)}`);
  }
  const c = parsed.data;
  const base = c.baseUrl;
  return defineSource({
    name: c.name,
    title: c.title,
    baseUrl:
      typeof base === "string"
        ? base
        : (env) => {
            const value = env[base.env];
            if (typeof value === "string" && value !== "") return value;
            if (base.default) return base.default;
            throw new NotConfigured(`source ${c.name} is not configured: set ${base.env} (its base URL)`, [base.env]);
          },
    auth: c.auth ? withMissingCheck(c.auth, restAuth(c.auth)) : undefined,
    rateLimit: c.rateLimit,
    streams: c.streams,
  });
}
