import { errorText, log } from "../lib/log";
import type { SourceDefinition } from "../sources/define-source";
import { type AlertEnv, evaluateAlerts } from "./alerts";
import { pruneAudit } from "./audit";

/** The operations share of every scheduler tick: alerts on state changes, and the audit's retention. Never throws. */
export async function opsTick(env: AlertEnv, sources: readonly SourceDefinition[], now: Date): Promise<void> {
  const started = Date.now();
  try {
    const outcome = await evaluateAlerts(env, sources, now);
    const pruned = await pruneAudit(env.DB, now);
    log("info", {
      event: "ops.tick",
      records: outcome.sent.length,
      failed: outcome.failed.length,
      audit_pruned: pruned,
      ms: Date.now() - started,
    });
  } catch (err) {
    log("error", { event: "ops.tick_failed", error: errorText(err), ms: Date.now() - started });
  }
}
