/** `acme` → `ACME_WEBHOOK_SECRET` (and `_PREVIOUS` during a rotation). */
export function secretName(source: string, suffix = "WEBHOOK_SECRET"): string {
  return `${source.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${suffix}`;
}

/** The secrets that verify a source right now: the current one, then the previous during rotation. */
export function webhookSecrets(env: object, source: string): string[] {
  const vars = env as Record<string, unknown>;
  const name = secretName(source);
  return [vars[name], vars[`${name}_PREVIOUS`]].filter((s): s is string => typeof s === "string" && s.length > 0);
}
