import type { Server } from "node:http";
import { ConfigError, loadConfig } from "./config";
import { DeliveryRejected } from "./delivery/signed-sender";
import { startHealthServer } from "./health/health-server";
import { emptyMetrics, type SidecarMetrics } from "./health/metrics";
import { errorText, log, registerSecrets } from "./log";
import { ReplicationReleased, SlotInvalidated } from "./replication/slot-setup";
import { Sidecar } from "./sidecar";
import { cdcStartProblems } from "./startup/cdc-start-checks";
import { startupExitCode } from "./startup/problem";
import { backoffMs } from "./delivery/backoff";

/** Errors a restart cannot fix: the process exits and an operator has to act. */
function isPermanent(err: unknown): boolean {
  return err instanceof SlotInvalidated || err instanceof DeliveryRejected || err instanceof ConfigError;
}

async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    log("error", { event: "cdc.config_invalid", error: errorText(err) });
    return 2;
  }
  registerSecrets([config.CDC_INGEST_SECRET, config.PGPASSWORD ?? ""]);
  const problems = await cdcStartProblems(config, process.env);
  for (const p of problems) log("error", { event: "cdc.start_refused", source: config.CDC_SOURCE, error: p.message });
  if (problems.length > 0) return startupExitCode(problems);
  log("info", {
    event: "cdc.start_checked",
    source: config.CDC_SOURCE,
    worker_url: config.WORKER_URL,
    state_file: config.CDC_STATE_FILE,
    health: config.CDC_HEALTH_PORT > 0 ? `http://${config.CDC_HEALTH_HOST}:${config.CDC_HEALTH_PORT}/healthz` : "off",
  });
  let current: Sidecar | null = null;
  let lastMetrics: SidecarMetrics = emptyMetrics(config.CDC_SLOT, config.CDC_SOURCE);
  let server: Server | null = null;
  if (config.CDC_HEALTH_PORT > 0) {
    server = await startHealthServer(config.CDC_HEALTH_HOST, config.CDC_HEALTH_PORT, () => current?.metrics ?? lastMetrics);
  }
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", { event: "cdc.signal", source: config.CDC_SOURCE, signal });
    void current?.stop();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  // A lost connection (Postgres restarting, a network blip) is retried with backoff; each
  // attempt is a fresh session that resumes from the slot's confirmed position. Sessions that let
  // go of the slot because the Worker took nothing keep their backoff growing, so an outage of the
  // Worker leaves the slot free for longer and longer stretches.
  let failures = 0;
  while (!stopping) {
    const sidecar = new Sidecar(config);
    current = sidecar;
    let started = false;
    try {
      await sidecar.start();
      started = true;
      await sidecar.done;
      failures = 0;
    } catch (err) {
      failures = started && !(err instanceof ReplicationReleased) ? 1 : failures + 1;
      await sidecar.stop().catch(() => {});
      lastMetrics = { ...sidecar.metrics, state: "failed", error: errorText(err) };
      if (isPermanent(err)) {
        log("error", { event: "cdc.fatal", source: config.CDC_SOURCE, error: errorText(err) });
        server?.close();
        return 1;
      }
      const wait = Math.max(500, backoffMs(failures - 1, 1000, 30_000));
      log("warn", { event: "cdc.restart", source: config.CDC_SOURCE, error: errorText(err), ms: wait });
      if (!stopping) await new Promise((r) => setTimeout(r, wait));
    }
  }
  server?.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log("error", { event: "cdc.crashed", error: errorText(err) });
    process.exit(1);
  },
);
