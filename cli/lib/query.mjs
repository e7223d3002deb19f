// `dock query`: DuckDB (the npm @duckdb/node-api, nothing else to install) over a local copy of
// the raw zone, with the Hive partitions and the `_dock` fields as columns.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

const HOURLY = "raw/source=*/stream=*/dt=*/hr=*/*.jsonl.gz";
const SNAPSHOT = "raw/source=*/stream=*/snapshot=*/*.jsonl.gz";
const quote = (text) => `'${text.replaceAll("'", "''")}'`;

/** Which of the two layouts (hourly partitions, snapshots) have files under `dir`. */
function layouts(dir) {
  const found = { hourly: false, snapshot: false };
  const raw = join(dir, "raw");
  if (!existsSync(raw)) return found;
  for (const entry of readdirSync(raw, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".jsonl.gz")) continue;
    const path = join(entry.parentPath, entry.name);
    if (/\/dt=[^/]+\/hr=[^/]+\/[^/]+$/.test(path)) found.hourly = true;
    else if (/\/snapshot=[^/]+\/[^/]+$/.test(path)) found.snapshot = true;
    if (found.hourly && found.snapshot) break;
  }
  return found;
}

// `_dock` is read as JSON so that pattern-specific fields (lsn, line, error) stay reachable
// (`_dock->>'lsn'`); `data` stays JSON text, so no number of the vendor's is rounded.
const COLUMNS = `columns={_dock: 'JSON', data: 'JSON', raw: 'VARCHAR', raw_base64: 'VARCHAR'}`;
const read = (glob) =>
  `read_json(${quote(glob)}, format='newline_delimited', hive_partitioning=true, hive_types_autocast=false, filename=true, ${COLUMNS})`;

/**
 * The statements that define the views over a raw zone copied into `dir`:
 * - `raw_all`: every line as it landed;
 * - `raw_distinct`: one row per `_dock.id` (its first landing: earliest received_at, then file);
 * - `raw_latest`: of those, one row per (source, stream, key), the newest: latest received_at,
 *   then the greatest version (as text), then id; rows without a key are all kept;
 * - `raw`: one of the three (`view`: all | distinct | latest).
 */
export function lakeViews(dir, view = "all") {
  const root = resolve(dir);
  const { hourly, snapshot } = layouts(root);
  const parts = [];
  if (hourly) parts.push(`SELECT *, NULL::VARCHAR AS snapshot FROM ${read(join(root, HOURLY))}`);
  if (snapshot) parts.push(`SELECT *, NULL::VARCHAR AS dt, NULL::VARCHAR AS hr FROM ${read(join(root, SNAPSHOT))}`);
  const files = parts.length
    ? parts.join(" UNION ALL BY NAME ")
    : "SELECT NULL::JSON AS _dock, NULL::JSON AS data, NULL::VARCHAR AS raw, NULL::VARCHAR AS raw_base64, NULL::VARCHAR AS filename, NULL::VARCHAR AS dt, NULL::VARCHAR AS hr, NULL::VARCHAR AS snapshot WHERE false";
  if (!["all", "distinct", "latest"].includes(view)) throw new Error(`unknown view ${view}`);
  return [
    "SET TimeZone = 'UTC'",
    `CREATE VIEW raw_all AS SELECT
      _dock->>'id' AS id, _dock->>'source' AS source, _dock->>'stream' AS stream,
      _dock->>'pattern' AS pattern, _dock->>'key' AS key, _dock->>'version' AS version,
      _dock->>'op' AS op, TRY_CAST(_dock->>'received_at' AS TIMESTAMPTZ) AS received_at,
      _dock->>'run_id' AS run_id,
      TRY_CAST(dt AS DATE) AS dt, TRY_CAST(hr AS INTEGER) AS hr, snapshot,
      data, raw, raw_base64, _dock, filename AS file
    FROM (${files})`,
    `CREATE VIEW raw_distinct AS SELECT * FROM raw_all
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY received_at ASC NULLS LAST, file, version) = 1`,
    `CREATE VIEW raw_latest AS SELECT * FROM raw_distinct
    QUALIFY key IS NULL
      OR row_number() OVER (PARTITION BY source, stream, key ORDER BY received_at DESC NULLS LAST, version DESC, id DESC) = 1`,
    `CREATE VIEW raw AS SELECT * FROM raw_${view}`,
  ];
}

/** Runs `sql` over the raw zone copied into `dir`; returns column names, their types and the rows (JSON-ready). */
export async function queryLake({ dir, sql, view = "all" }) {
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  try {
    for (const statement of lakeViews(dir, view)) await connection.run(statement);
    const reader = await connection.runAndReadAll(sql);
    return {
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.alias ?? t.toString()),
      rows: reader.getRowsJson(),
    };
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

const cellText = (value) => (value === null ? "NULL" : typeof value === "string" ? value : JSON.stringify(value));

/** A result as an aligned text table (long cells cut at `width` characters). */
export function formatTable({ columns, rows }, width = 60) {
  const cut = (text) => (text.length > width ? `${text.slice(0, width - 1)}…` : text).replace(/[\r\n\t]/g, " ");
  const cells = rows.map((row) => row.map((v) => cut(cellText(v))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const count = `(${rows.length} row${rows.length === 1 ? "" : "s"})`;
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line), count].join("\n");
}

/** A result as CSV (RFC 4180 quoting). */
export function formatCsv({ columns, rows }) {
  const field = (v) => {
    const text = v === null ? "" : cellText(v);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns, ...rows].map((r) => r.map(field).join(",")).join("\n");
}

const EXACT_NUMBER = /^(BIGINT|UBIGINT|HUGEINT|UHUGEINT|DECIMAL)/;

/**
 * A result as JSON lines, one object per row. JSON columns (data, _dock) are spliced in as they
 * are, and 64/128-bit integers and decimals as their digits, so no number is rounded.
 */
export function formatJsonLines({ columns, types, rows }) {
  const value = (v, type) => {
    if (typeof v === "string" && (type === "JSON" || (EXACT_NUMBER.test(type) && /^-?\d+(\.\d+)?$/.test(v)))) return v;
    return JSON.stringify(v);
  };
  return rows.map((row) => `{${row.map((v, i) => `${JSON.stringify(columns[i])}:${value(v, types[i])}`).join(",")}}`).join("\n");
}
