import { NotConfigured } from "../pollers/not-configured";
import { paginationStyle } from "../pollers/pagination";
import type { PageRequest, PaginationContext, PaginationSpec, PaginationStyle } from "../pollers/types";

/**
 * A base URL that exists only when one of the source's credentials is set, so the scheduler
 * leaves an unconfigured source alone (and a run of it fails naming what is missing).
 */
export function whenConfigured(anyOf: string[], url: (env: Record<string, unknown>) => string) {
  return (env: Record<string, unknown>): string => {
    if (!anyOf.some((name) => typeof env[name] === "string" && env[name] !== "")) {
      throw new NotConfigured(`not configured: set ${anyOf.join(" or ")}`, [anyOf.join(" or ")]);
    }
    return url(env);
  };
}

/** Which of these env vars are unset or empty, in the order given. */
export function unsetVariables(env: Record<string, unknown>, names: readonly string[]): string[] {
  return names.filter((name) => typeof env[name] !== "string" || env[name] === "");
}

/** The env var's value, or the default when it is unset or empty. */
export function envOr(env: Record<string, unknown>, name: string, fallback: string): string {
  const value = env[name];
  return typeof value === "string" && value !== "" ? value : fallback;
}

/**
 * A built-in pagination style whose first request is reshaped: the engine puts the cursor in a
 * query parameter, and some vendors want it inside an expression (`filter=greater-than(…)`).
 */
export function reshapedFirst(spec: PaginationSpec, reshape: (base: PageRequest, ctx: PaginationContext) => PageRequest): PaginationStyle {
  const inner = paginationStyle(spec);
  return { ...inner, first: (base, ctx) => inner.first(reshape(base, ctx), ctx) };
}
