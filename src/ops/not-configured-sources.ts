import { configurationProblem } from "../pollers/configuration";
import type { SourceDefinition } from "../sources/define-source";
import { secretName, webhookSecrets } from "../webhooks/secrets";
import type { NotConfiguredSource } from "./status-schema";

/**
 * Sources that cannot run here, and what to set: a polled source whose base URL or credentials are
 * unset (configurationProblem, what the scheduler and run-now go by) and a webhook source without
 * its signing secret (its deliveries are answered 404 until it is set). Names only, never values.
 */
export function notConfiguredSources(sources: readonly SourceDefinition[], env: Record<string, unknown>): NotConfiguredSource[] {
  const out: NotConfiguredSource[] = [];
  for (const source of sources) {
    const errors: string[] = [];
    const missing: string[] = [];
    if (source.streams?.length) {
      const problem = configurationProblem(source, env);
      if (problem) {
        errors.push(problem.error);
        missing.push(...problem.missing);
      }
    }
    if (source.webhook && webhookSecrets(env, source.name).length === 0) {
      const name = secretName(source.name);
      errors.push(`source ${source.name}: its webhooks are refused (404) until ${name} is set`);
      missing.push(name);
    }
    if (errors.length > 0) out.push({ source: source.name, error: errors.join("; "), missing });
  }
  return out;
}
