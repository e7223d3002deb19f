/** What the sidecar knows about itself, for /healthz, /metrics and logs. */
export interface SidecarMetrics {
  state: "starting" | "streaming" | "stopping" | "stopped" | "failed";
  error: string | null;
  slot: string;
  source: string;
  changes: number;
  transactions: number;
  records_delivered: number;
  deliveries_retried: number;
  heartbeats_sent: number;
  heartbeats_seen: number;
  in_flight_batches: number;
  socket_paused: boolean;
  durable_lsn: string;
  received_lsn: string;
  last_commit_time: string | null;
  slot_lag_bytes: number | null;
  slot_wal_status: string | null;
  slot_safe_wal_size: number | null;
  slot_checked_at: string | null;
  snapshot_rows: number;
  snapshot_done: boolean | null;
}

export function emptyMetrics(slot: string, source: string): SidecarMetrics {
  return {
    state: "starting",
    error: null,
    slot,
    source,
    changes: 0,
    transactions: 0,
    records_delivered: 0,
    deliveries_retried: 0,
    heartbeats_sent: 0,
    heartbeats_seen: 0,
    in_flight_batches: 0,
    socket_paused: false,
    durable_lsn: "0/0",
    received_lsn: "0/0",
    last_commit_time: null,
    slot_lag_bytes: null,
    slot_wal_status: null,
    slot_safe_wal_size: null,
    slot_checked_at: null,
    snapshot_rows: 0,
    snapshot_done: null,
  };
}

const COUNTERS = new Set([
  "changes",
  "transactions",
  "records_delivered",
  "deliveries_retried",
  "heartbeats_sent",
  "heartbeats_seen",
  "snapshot_rows",
]);
const WAL_STATUSES = ["reserved", "extended", "unreserved", "lost"];

/** Prometheus text exposition (version 0.0.4). */
export function prometheusText(m: SidecarMetrics): string {
  const labels = `slot="${m.slot}",source="${m.source}"`;
  const lines: string[] = [];
  const put = (name: string, value: number | null, type: "counter" | "gauge") => {
    if (value === null) return;
    lines.push(`# TYPE loading_dock_cdc_${name} ${type}`, `loading_dock_cdc_${name}{${labels}} ${value}`);
  };
  for (const key of [
    "changes",
    "transactions",
    "records_delivered",
    "deliveries_retried",
    "heartbeats_sent",
    "heartbeats_seen",
    "snapshot_rows",
  ] as const) {
    put(`${key}_total`, m[key], COUNTERS.has(key) ? "counter" : "gauge");
  }
  put("in_flight_batches", m.in_flight_batches, "gauge");
  put("socket_paused", m.socket_paused ? 1 : 0, "gauge");
  put("slot_lag_bytes", m.slot_lag_bytes, "gauge");
  put("slot_safe_wal_size_bytes", m.slot_safe_wal_size, "gauge");
  put("up", m.state === "streaming" ? 1 : 0, "gauge");
  if (m.slot_wal_status) {
    lines.push("# TYPE loading_dock_cdc_slot_wal_status gauge");
    for (const s of WAL_STATUSES)
      lines.push(`loading_dock_cdc_slot_wal_status{${labels},status="${s}"} ${m.slot_wal_status === s ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}
