import type { SourceDefinition } from "../sources/define-source";
import { type ReconcileDeps, type ReconcileEnv, type ReconcileOutcome, runReconcileStep } from "./run-reconcile";
import { isReconcilable } from "./types";
import { requestedWindow, WindowRefused } from "./window";

export type ReconcileNowResult = { status: 200 | 202; body: ReconcileOutcome } | { status: 400 | 404 | 409 | 422; body: { error: string } };

/**
 * Runs reconciliation now for one source over [from, to] (to defaults to now): the window is
 * checked first (a window reaching past the vendor's history is refused, 400), then the run's
 * first step runs in this request; a long listing continues on JOBS (202).
 */
export async function reconcileSourceNow(
  env: ReconcileEnv,
  find: (name: string) => SourceDefinition | undefined,
  name: string,
  range: { from?: string; to?: string },
  deps: ReconcileDeps = {},
): Promise<ReconcileNowResult> {
  const source = find(name);
  if (!source?.webhook) return { status: 404, body: { error: `no webhook source named ${JSON.stringify(name.slice(0, 64))}` } };
  const spec = source.reconcile;
  if (!isReconcilable(spec))
    return { status: 422, body: { error: `${source.name} is not reconcilable: ${spec?.unsupported ?? "no listing declared"}` } };
  if (!range.from) return { status: 400, body: { error: "from is required (ISO-8601); to defaults to now" } };
  try {
    requestedWindow(source.name, spec, range.from, range.to, (deps.clock?.now ?? Date.now)());
  } catch (err) {
    if (err instanceof WindowRefused) return { status: 400, body: { error: err.message } };
    throw err;
  }
  const outcome = await runReconcileStep(env, source, { kind: "reconcile", source: source.name, from: range.from, to: range.to }, deps);
  if (outcome.status === "skipped") return { status: 409, body: { error: `a reconciliation of ${source.name} is already running` } };
  return { status: outcome.status === "continued" || outcome.status === "deferred" ? 202 : 200, body: outcome };
}
