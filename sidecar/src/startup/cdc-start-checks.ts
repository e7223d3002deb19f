import path from "node:path";
import type { SidecarConfig } from "../config";
import { pgConfigOf } from "../sidecar";
import { postgresProblems } from "./postgres-check";
import type { StartupProblem } from "./problem";
import { movedStateProblem, stateDirProblem } from "./state-dir";
import { workerProblem } from "./worker-check";

/**
 * Everything the Postgres sidecar checks before it starts streaming: its state directory, the
 * Worker's answer to a signed empty delivery, and what Postgres allows its role. Run together;
 * every problem found is returned, so one start names all there is to fix.
 */
export async function cdcStartProblems(config: SidecarConfig, env: NodeJS.ProcessEnv): Promise<StartupProblem[]> {
  const problems: StartupProblem[] = [];
  const dir = stateDirProblem(path.dirname(config.CDC_STATE_FILE));
  if (dir) problems.push({ message: dir });
  const moved = env.CDC_STATE_FILE ? null : movedStateProblem(config.CDC_STATE_FILE, "cdc-state.json", "CDC_STATE_FILE");
  if (moved) problems.push({ message: moved });
  const [worker, postgres] = await Promise.all([
    workerProblem({
      workerUrl: config.WORKER_URL,
      secret: config.CDC_INGEST_SECRET,
      source: config.CDC_SOURCE,
      waitMs: config.CDC_STARTUP_WAIT_MS,
    }),
    postgresProblems({
      pg: pgConfigOf(config),
      slot: config.CDC_SLOT,
      publication: config.CDC_PUBLICATION,
      tables: config.CDC_TABLES,
      copies: config.CDC_SNAPSHOT,
      waitMs: config.CDC_STARTUP_WAIT_MS,
    }),
  ]);
  if (worker) problems.push(worker);
  problems.push(...postgres);
  return problems;
}
