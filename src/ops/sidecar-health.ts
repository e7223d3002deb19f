import { Hono } from "hono";
import { errorText, log, redact } from "../lib/log";
import { type CdcSourcesEnv, cdcSourceRefusal } from "../ingest/cdc-sources";
import { sidecarRefusal, signedJson } from "../ingest/signed-json";
import type { SourceDefinition } from "../sources/define-source";
import { healthReportSchema } from "./health-report-schema";
import { DEFAULT_SILENCE_MINUTES } from "./slo";

export { healthReportSchema };

export interface SidecarReport {
  source: string;
  slot: string;
  state: string | null;
  slotLagBytes: number | null;
  walStatus: string | null;
  safeWalSize: number | null;
  heartbeatAt: string | null;
  durableLsn: string | null;
  error: string | null;
  reportedAt: string;
}

/** Slot lag, in bytes, beyond which a slot alerts even while the heartbeat still flows. */
export const DEFAULT_MAX_SLOT_LAG_BYTES = 1024 ** 3;

/** A sidecar's condition: silent reports, a stopped heartbeat, a slot near losing WAL, or too much lag. */
export function sidecarCondition(
  s: SidecarReport,
  now: Date,
  maxLagBytes = DEFAULT_MAX_SLOT_LAG_BYTES,
): { condition: "ok" | "slot-lag" | "silent" | "failing"; reason: string } {
  const silence = DEFAULT_SILENCE_MINUTES.cdc * 60_000;
  if (s.walStatus === "lost") return { condition: "failing", reason: "the slot lost WAL it still needed (wal_status lost)" };
  if (s.state === "failed") return { condition: "failing", reason: `sidecar failed: ${s.error ?? "no error text"}` };
  if (now.getTime() - Date.parse(s.reportedAt) > silence) return { condition: "silent", reason: `no health report since ${s.reportedAt}` };
  if (s.walStatus === "unreserved") return { condition: "slot-lag", reason: "the slot is past max_wal_size (wal_status unreserved)" };
  if (s.slotLagBytes !== null && s.slotLagBytes > maxLagBytes) return { condition: "slot-lag", reason: `slot lag ${s.slotLagBytes} bytes` };
  if (!s.heartbeatAt || now.getTime() - Date.parse(s.heartbeatAt) > silence) {
    return { condition: "slot-lag", reason: `no heartbeat through the slot since ${s.heartbeatAt ?? "ever"}` };
  }
  return { condition: "ok", reason: "streaming" };
}

interface HealthEnv extends CdcSourcesEnv {
  DB: D1Database;
  CDC_INGEST_SECRET?: string;
  CDC_INGEST_SECRET_PREVIOUS?: string;
}

/**
 * POST /ingest/health — the sidecar's health report, signed like /ingest/cdc with CDC_INGEST_SECRET,
 * and like it only for a source in CDC_SOURCES (a report under a vendor's name would show on the
 * status page as that vendor's).
 */
export function sidecarHealthRoutes(find: (name: string) => SourceDefinition | undefined) {
  const app = new Hono<{ Bindings: HealthEnv }>();
  app.post("/ingest/health", async (c) => {
    const gate = await signedJson(c.req.raw, c.env, healthReportSchema, 16 * 1024, "health report");
    if (!gate.ok) return gate.response;
    const r = gate.data;
    const refusal = cdcSourceRefusal(r.source, c.env, find);
    if (refusal) return sidecarRefusal(c.req.raw, 403, `refused health report at source: ${refusal}`);
    const now = new Date().toISOString();
    try {
      await c.env.DB.prepare(
        `INSERT INTO sidecar_health (source, slot, state, slot_lag_bytes, wal_status, safe_wal_size, heartbeat_at, durable_lsn, error, reported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (source, slot) DO UPDATE SET state = excluded.state, slot_lag_bytes = excluded.slot_lag_bytes,
           wal_status = excluded.wal_status, safe_wal_size = excluded.safe_wal_size,
           heartbeat_at = coalesce(excluded.heartbeat_at, heartbeat_at), durable_lsn = excluded.durable_lsn,
           error = excluded.error, reported_at = excluded.reported_at`,
      )
        .bind(
          r.source,
          r.slot,
          r.state ?? null,
          r.slot_lag_bytes ?? null,
          r.wal_status ?? null,
          r.safe_wal_size ?? null,
          r.heartbeat_at ? new Date(r.heartbeat_at).toISOString() : null,
          r.durable_lsn ?? null,
          r.error ? redact(r.error) : null,
          now,
        )
        .run();
    } catch (err) {
      log("error", { event: "sidecar.health_failed", source: r.source, pattern: "cdc", error: errorText(err) });
      return c.json({ error: "could not store the report; retry" }, 503, { "retry-after": "5" });
    }
    log("info", { event: "sidecar.health", source: r.source, pattern: "cdc", slot: r.slot, slot_lag_bytes: r.slot_lag_bytes ?? null });
    return c.json({ ok: true });
  });
  return app;
}
