import { randomUUID } from "node:crypto";
import { signingKey, standardWebhookSignature } from "../delivery/signature";
import { errorText, log } from "../log";
import type { SidecarMetrics } from "./metrics";

/** The body of the Worker's POST /ingest/health (src/ops/sidecar-health.ts validates it). */
export function healthReport(m: SidecarMetrics, heartbeatAt: string | null) {
  return {
    source: m.source,
    slot: m.slot,
    state: m.state,
    slot_lag_bytes: m.slot_lag_bytes,
    wal_status: m.slot_wal_status,
    safe_wal_size: m.slot_safe_wal_size,
    heartbeat_at: heartbeatAt,
    durable_lsn: m.durable_lsn,
    error: m.error ? m.error.slice(0, 2000) : null,
  };
}

/**
 * One signed POST of the sidecar's health to the Worker, so `GET /status` and the alerts see slot
 * lag and heartbeat silence. Best effort: a failure is logged and the next report tries again; it
 * never touches the change stream or its acknowledgements.
 */
export async function reportHealth(
  workerUrl: string,
  secret: string,
  report: ReturnType<typeof healthReport>,
  timeoutMs = 5000,
): Promise<boolean> {
  const body = Buffer.from(JSON.stringify(report), "utf8");
  const id = `health_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  try {
    const res = await fetch(`${workerUrl.replace(/\/$/, "")}/ingest/health`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(ts),
        "webhook-signature": standardWebhookSignature(signingKey(secret), id, ts, body),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) log("warn", { event: "cdc.health_report_refused", source: report.source, error: `HTTP ${res.status}` });
    return res.ok;
  } catch (err) {
    log("warn", { event: "cdc.health_report_failed", source: report.source, error: errorText(err) });
    return false;
  }
}
