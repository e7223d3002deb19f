import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig, type SidecarConfig } from "../../src/config";
import type { PgCluster } from "./pg-cluster";
import { TEST_SECRET, type WebhookSink } from "./webhook-sink";

/** The environment a sidecar under test runs with: the test cluster, the test sink, fast timers. */
export function sidecarEnv(cluster: PgCluster, sink: WebhookSink, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...cluster.env,
    WORKER_URL: sink.url,
    CDC_INGEST_SECRET: TEST_SECRET,
    CDC_SOURCE: "app_db",
    CDC_SLOT: "dock_test",
    CDC_PUBLICATION: "dock_test_pub",
    CDC_LINGER_MS: "20",
    CDC_STATUS_INTERVAL_MS: "500",
    CDC_HEARTBEAT_MS: "0",
    CDC_SLOT_CHECK_MS: "1000",
    CDC_HEALTH_REPORT_MS: "0",
    CDC_HEALTH_PORT: "0",
    CDC_SNAPSHOT: "false",
    CDC_STATE_FILE: path.join(mkdtempSync(path.join(tmpdir(), "dock-state-")), "state.json"),
    ...overrides,
  };
}

export function sidecarConfig(cluster: PgCluster, sink: WebhookSink, overrides: Record<string, string> = {}): SidecarConfig {
  return loadConfig(sidecarEnv(cluster, sink, overrides));
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
