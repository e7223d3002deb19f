const SPARK = "▁▂▃▄▅▆▇█";
const COLOURS = { fresh: 32, late: 33, stale: 31, failing: 91, paused: 90, "zero-record": 35 };

export function human(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.round(s / 360) / 10}h`;
  return `${Math.round(s / 8640) / 10}d`;
}

/** 168 hourly counts → 28 characters, one per 6 hours. */
export function sparkline(counts, width = 28) {
  if (!counts?.length) return "";
  const per = Math.ceil(counts.length / width);
  const buckets = [];
  for (let i = 0; i < counts.length; i += per) buckets.push(counts.slice(i, i + per).reduce((a, b) => a + b, 0));
  const max = Math.max(...buckets);
  return buckets.map((b) => (max === 0 ? " " : b === 0 ? "·" : SPARK[Math.min(7, Math.floor((b / max) * 7.999))])).join("");
}

const ago = (iso, now) => (iso ? `${human(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))} ago` : "never");

/** The `dock status` table: one line per stream, worst first, then what is wrong, in plain words. */
export function statusTable(status, { colour = false, now = Date.now() } = {}) {
  const order = ["failing", "stale", "zero-record", "late", "paused", "fresh"];
  const streams = [...(status.streams ?? [])].sort(
    (a, b) => order.indexOf(a.state) - order.indexOf(b.state) || `${a.source}.${a.stream}`.localeCompare(`${b.source}.${b.stream}`),
  );
  const rows = [["STATE", "STREAM", "PATTERN", "LAG/SLO", "LAST RUN", "RECORDS 7D", "DLQ"]];
  for (const s of streams) {
    const run = s.last_run
      ? `${s.last_run.status} ${s.last_run.records} rec ${ago(s.last_run.finished_at ?? s.last_run.started_at, now)}`
      : "–";
    rows.push([
      s.state,
      `${s.source}.${s.stream}`,
      s.pattern,
      `${human(s.lag_seconds)}/${human(s.slo_seconds)}`,
      run,
      sparkline(s.records_per_hour),
      String(s.dlq ?? 0),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const lines = rows.map((r, i) =>
    r
      .map((cell, j) => {
        const padded = cell + " ".repeat(widths[j] - [...cell].length);
        return colour && i > 0 && j === 0 ? `\x1b[${COLOURS[cell] ?? 0}m${padded}\x1b[0m` : padded;
      })
      .join("  ")
      .trimEnd(),
  );
  const out = [
    status.ok ? "Everything is fine." : `${status.problems.length} problem(s):`,
    ...(status.problems ?? []).map((p) => `  - ${p}`),
    "",
    ...lines,
  ];
  const dlq = Object.entries(status.dlq ?? {}).map(([q, n]) => `${q} ${n}`);
  if (dlq.length) out.push("", `dead letters: ${dlq.join(", ")}`);
  for (const s of status.sidecars ?? []) out.push(`sidecar ${s.source}/${s.slot}: ${s.condition} (${s.reason})`);
  out.push(...notConfiguredLines(status, streams));
  return out.join("\n");
}

/**
 * Sources that cannot run here: those with streams in the table in full (what to set), the rest
 * (registry sources this deployment does not use) as a count, so the table stays readable.
 */
function notConfiguredLines(status, streams) {
  const listed = new Set(streams.map((s) => s.source));
  const shown = (status.not_configured ?? []).filter((n) => listed.has(n.source));
  const others = (status.not_configured ?? []).filter((n) => !listed.has(n.source));
  const lines = shown.map((n) => `not configured: ${n.source} — ${n.missing.length ? `set ${n.missing.join(", ")}` : n.error}`);
  if (others.length)
    lines.push(
      `${others.length} other source(s) not configured here: ${others.map((n) => n.source).join(", ")} (dock status --json: not_configured says what to set)`,
    );
  return lines.length ? ["", ...lines] : [];
}
