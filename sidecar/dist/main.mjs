// Built from sidecar/src/main.ts by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.

// sidecar/src/config.ts
import { readFileSync } from "node:fs";
import path2 from "node:path";
import * as z from "zod";

// sidecar/src/startup/state-dir.ts
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
var DEFAULT_STATE_DIR = ".dock-state";
function stateDirOf(env, configured) {
  const fromSystemd = env.STATE_DIRECTORY?.split(":")[0];
  return path.resolve(configured || env.DOCK_STATE_DIR || fromSystemd || DEFAULT_STATE_DIR);
}
function stateDirProblem(dir) {
  try {
    mkdirSync(dir, { recursive: true, mode: 448 });
    accessSync(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    return `the state directory ${dir} cannot be created or written (${err.message}): set DOCK_STATE_DIR to a directory this user can write`;
  }
}
function movedStateProblem(file, legacy, setting) {
  const old = path.resolve(legacy);
  if (old === file || !existsSync(old) || existsSync(file)) return null;
  return `${old} holds state an earlier version kept in the working directory; state now lives in the state directory: move it to ${file} (or set ${setting}=${old})`;
}

// sidecar/src/config.ts
var int = (def, min = 0) => z.coerce.number().int().min(min).default(def);
var bool = (def) => z.enum(["true", "false", "1", "0"]).default(def ? "true" : "false").transform((v) => v === "true" || v === "1");
var name = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "lowercase letters, digits and _ (a Postgres slot name)");
var configSchema = z.object({
  PGHOST: z.string().default("127.0.0.1"),
  PGPORT: int(5432, 1),
  PGUSER: z.string().default("postgres"),
  PGPASSWORD: z.string().optional(),
  PGDATABASE: z.string().default("postgres"),
  CDC_SOURCE: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/).default("app_db"),
  CDC_SLOT: name.default("loading_dock"),
  CDC_PUBLICATION: z.string().min(1).max(63).default("loading_dock"),
  /** Comma-separated `schema.table` list for a publication we create; empty means FOR ALL TABLES. */
  CDC_TABLES: z.string().default("").transform(
    (s) => s.split(",").map((t) => t.trim()).filter(Boolean)
  ),
  WORKER_URL: z.url(),
  CDC_INGEST_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "must be whsec_ followed by base64"),
  CDC_BATCH_MAX_RECORDS: int(5e3, 1),
  CDC_BATCH_MAX_BYTES: int(4e6, 1e3).refine((n) => n <= 7e6, "the Worker accepts at most 8 MB a delivery"),
  CDC_MAX_IN_FLIGHT: int(4, 1),
  CDC_LINGER_MS: int(200),
  /** Longest the replication socket stays paused (no delivery accepted) before the connection is let go. */
  CDC_MAX_PAUSE_MS: int(3e4, 100),
  CDC_STATUS_INTERVAL_MS: int(1e4, 100),
  CDC_HEARTBEAT_MS: int(1e4),
  CDC_HEARTBEAT_PREFIX: z.string().min(1).default("loading_dock_heartbeat"),
  CDC_SLOT_CHECK_MS: int(15e3, 100),
  /** How often slot lag and heartbeat health go to the Worker's POST /ingest/health; 0 = never. */
  CDC_HEALTH_REPORT_MS: int(3e4),
  CDC_HEALTH_HOST: z.string().default("127.0.0.1"),
  CDC_HEALTH_PORT: int(9187),
  CDC_SNAPSHOT: bool(true),
  CDC_SNAPSHOT_CHUNK_ROWS: int(1e4, 1),
  /** Where state is kept (see startup/state-dir.ts); resolved by loadConfig. */
  DOCK_STATE_DIR: z.string().optional(),
  /** Snapshot progress; unset: `cdc-<source>-<slot>.json` in the state directory. */
  CDC_STATE_FILE: z.string().optional(),
  CDC_SHUTDOWN_TIMEOUT_MS: int(3e4, 100),
  /** How long the start-up checks wait for an unreachable Worker or Postgres before giving up. */
  CDC_STARTUP_WAIT_MS: int(15e3, 0)
});
function defaultStateFileName(source, slot) {
  return `cdc-${source}-${slot}.json`;
}
var ConfigError = class extends Error {
  name = "ConfigError";
};
function loadConfig(env = process.env) {
  let fileValues = {};
  if (env.CDC_CONFIG_FILE) {
    try {
      fileValues = JSON.parse(readFileSync(env.CDC_CONFIG_FILE, "utf8"));
    } catch (err) {
      throw new ConfigError(`CDC_CONFIG_FILE ${env.CDC_CONFIG_FILE}: ${err.message}`);
    }
  }
  const merged = { ...fileValues };
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== void 0 && v !== "") merged[key] = v;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.message} (setting ${i.path.join(".")})`);
    throw new ConfigError(`invalid configuration:
  ${lines.join("\n  ")}`);
  }
  const dir = stateDirOf(env, result.data.DOCK_STATE_DIR);
  return {
    ...result.data,
    DOCK_STATE_DIR: dir,
    CDC_STATE_FILE: path2.resolve(
      result.data.CDC_STATE_FILE ?? path2.join(dir, defaultStateFileName(result.data.CDC_SOURCE, result.data.CDC_SLOT))
    )
  };
}

// sidecar/src/delivery/signed-sender.ts
import http from "node:http";
import https from "node:https";

// sidecar/src/delivery/backoff.ts
function backoffMs(attempt, baseMs = 250, capMs = 3e4, random = Math.random) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
function retryAfterMs(header, now = Date.now()) {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1e3;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
function isRetryableStatus(status) {
  return status === 408 || status === 429 || status >= 500;
}

// sidecar/src/delivery/signature.ts
import { createHmac } from "node:crypto";
function signingKey(secret) {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}
function standardWebhookSignature(key, messageId, timestampSeconds, body) {
  const mac = createHmac("sha256", key).update(`${messageId}.${timestampSeconds}.`);
  for (const piece of Array.isArray(body) ? body : [body]) mac.update(piece);
  return `v1,${mac.digest("base64")}`;
}

// sidecar/src/delivery/signed-sender.ts
var DeliveryRejected = class extends Error {
  constructor(status, body) {
    super(`the Worker rejected a delivery with ${status}: ${body.slice(0, 300)}`);
    this.status = status;
  }
  name = "DeliveryRejected";
};
var DeliveryAborted = class extends Error {
  name = "DeliveryAborted";
};
var SignedSender = class {
  constructor(opts) {
    this.opts = opts;
    this.key = signingKey(opts.secret);
    this.url = new URL(opts.url);
    const Agent = this.url.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }
  key;
  aborted = false;
  wakers = /* @__PURE__ */ new Set();
  url;
  agent;
  abort() {
    this.aborted = true;
    this.agent.destroy();
    for (const wake of this.wakers) wake();
  }
  async send(messageId, payload) {
    const body = typeof payload === "string" ? [Buffer.from(payload, "utf8")] : Buffer.isBuffer(payload) ? [payload] : payload;
    let length = 0;
    for (const piece of body) length += piece.length;
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new DeliveryAborted("delivery aborted by shutdown");
      let status;
      let error;
      let wait = null;
      try {
        const ts = Math.floor(Date.now() / 1e3);
        const res = await this.post(body, {
          "content-type": "application/json",
          "content-length": String(length),
          "webhook-id": messageId,
          "webhook-timestamp": String(ts),
          "webhook-signature": standardWebhookSignature(this.key, messageId, ts, body)
        });
        if (res.status >= 200 && res.status < 300) return;
        status = res.status;
        if (!isRetryableStatus(res.status)) throw new DeliveryRejected(res.status, res.text);
        wait = retryAfterMs(res.retryAfter);
      } catch (err) {
        if (err instanceof DeliveryRejected) throw err;
        error = err instanceof Error ? err.message : String(err);
      }
      const waitMs = Math.max(wait ?? 0, backoffMs(attempt, 250, this.opts.maxBackoffMs ?? 3e4));
      this.opts.onRetry?.({ attempt: attempt + 1, waitMs, status, error });
      await this.sleep(waitMs);
    }
  }
  /** One POST over a keep-alive connection (node:http: no web-stream copies of a multi-MB body). */
  post(body, headers) {
    const lib = this.url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(this.url, { method: "POST", headers, agent: this.agent, timeout: this.opts.timeoutMs ?? 3e4 }, (res) => {
        const chunks = [];
        let size = 0;
        res.on("data", (c) => {
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on("end", () => {
          const retry = res.headers["retry-after"];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8").slice(0, 4096),
            retryAfter: typeof retry === "string" ? retry : null
          });
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("delivery timed out")));
      req.on("error", reject);
      req.cork();
      for (const piece of body) req.write(piece);
      req.end();
    });
  }
  sleep(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
};

// sidecar/src/health/health-server.ts
import { createServer } from "node:http";

// sidecar/src/health/metrics.ts
function emptyMetrics(slot, source) {
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
    snapshot_done: null
  };
}
var COUNTERS = /* @__PURE__ */ new Set([
  "changes",
  "transactions",
  "records_delivered",
  "deliveries_retried",
  "heartbeats_sent",
  "heartbeats_seen",
  "snapshot_rows"
]);
var WAL_STATUSES = ["reserved", "extended", "unreserved", "lost"];
function prometheusText(m) {
  const labels = `slot="${m.slot}",source="${m.source}"`;
  const lines = [];
  const put = (name2, value, type) => {
    if (value === null) return;
    lines.push(`# TYPE loading_dock_cdc_${name2} ${type}`, `loading_dock_cdc_${name2}{${labels}} ${value}`);
  };
  for (const key of [
    "changes",
    "transactions",
    "records_delivered",
    "deliveries_retried",
    "heartbeats_sent",
    "heartbeats_seen",
    "snapshot_rows"
  ]) {
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
  return `${lines.join("\n")}
`;
}

// sidecar/src/health/health-server.ts
function startHealthServer(host, port, metrics) {
  const server = createServer((req, res) => {
    const m = metrics();
    if (req.method === "GET" && req.url === "/healthz") {
      const healthy = m.state === "streaming" && m.slot_wal_status !== "lost";
      res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: healthy, ...m }));
      return;
    }
    if (req.method === "GET" && req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(prometheusText(m));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not found"}');
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

// src/lib/log-events.ts
var COMMON_FIELDS = ["source", "stream", "pattern", "run_id", "records", "ms", "error"];
var RUN = ["source", "stream", "pattern", "run_id"];
var LOG_EVENTS = {
  "admin.audit_failed": ["error"],
  "alert.sent": [],
  "alert.failed": ["error"],
  "cdc.accepted": ["pattern", "records", "ms"],
  "cdc.enqueue_failed": ["pattern", "error", "ms"],
  "cron.tick": ["records"],
  "cron.nightly": ["records"],
  "dedupe.pruned": ["records", "ms"],
  "dlq.parked": [],
  "dlq.redrive_failed": ["error"],
  "dlq.redriven": ["records"],
  "file.rejected": ["source", "pattern", "ms"],
  "file.put.landed": ["source", "pattern", "run_id", "ms"],
  "file.put.duplicate": ["source", "pattern", "run_id", "ms"],
  "file.put.failed": ["source", "pattern", "error", "ms"],
  "file.landed": ["source", "stream", "pattern", "run_id"],
  "file.duplicate": ["source", "pattern", "run_id"],
  "file.step": [...RUN, "records", "ms"],
  "file.parsed": [...RUN, "records", "ms"],
  "file.failed": [...RUN, "error"],
  "file.requeued": RUN,
  "file.event_invalid": ["error"],
  "file.event_ignored": ["error"],
  "file.event_gone": ["source"],
  "file.event.landed": ["source", "pattern", "run_id"],
  "file.event.duplicate": ["source", "pattern", "run_id"],
  "file.event_failed": ["source", "pattern", "error"],
  "http.unhandled": ["error"],
  "job.invalid": ["error"],
  "job.failed": ["error"],
  "job.note_failed": ["pattern", "run_id", "error"],
  "ops.tick": ["records", "ms"],
  "ops.tick_failed": ["error", "ms"],
  "poll.unknown_stream": ["source", "stream", "pattern"],
  "poll.skipped_busy": RUN,
  "poll.started": RUN,
  "poll.continued": [...RUN, "records"],
  "poll.deferred": [...RUN, "records"],
  "poll.superseded": RUN,
  "poll.succeeded": [...RUN, "records", "ms"],
  "poll.failed": [...RUN, "error"],
  "poll.paused": [...RUN, "error"],
  "poll.test_read": [...RUN, "records", "ms"],
  "poll.test_read_failed": [...RUN, "records", "ms", "error"],
  "raw.written": ["source", "stream", "pattern", "records", "ms"],
  "raw.duplicates_dropped": ["records"],
  "raw.batch_failed": ["records", "error", "ms"],
  "raw.manifest_waiting": RUN,
  "raw.manifest_written": [...RUN, "records"],
  "raw.manifest_failed": [...RUN, "error"],
  "raw.message_quarantined": ["error"],
  "reconcile.unknown_source": ["source", "pattern"],
  "reconcile.not_reconcilable": ["source", "pattern", "run_id", "error"],
  "reconcile.skipped_busy": ["source", "pattern", "run_id"],
  "reconcile.refused": ["source", "pattern", "run_id", "error"],
  "reconcile.started": ["source", "pattern", "run_id"],
  "reconcile.continued": ["source", "pattern", "run_id"],
  "reconcile.deferred": ["source", "pattern", "run_id"],
  "reconcile.superseded": ["source", "pattern", "run_id"],
  "reconcile.succeeded": ["source", "pattern", "run_id", "records", "ms"],
  "reconcile.failed": ["source", "pattern", "run_id", "records", "error"],
  "sidecar.health": ["source", "pattern"],
  "sidecar.health_failed": ["source", "pattern", "error"],
  "sidecar.rejected": ["pattern", "error"],
  "webhook.rejected": ["source", "pattern", "ms"],
  "webhook.accepted": ["source", "pattern", "run_id", "records", "ms"],
  "webhook.kept_raw": ["source", "pattern", "run_id", "records", "ms"],
  "webhook.unreconcilable_records": ["source", "pattern", "records", "error"],
  "webhook.enqueue_failed": ["source", "pattern", "error", "ms"]
};

// src/lib/log.ts
var sink = (line) => console.log(line);
function logSidecar(level, fields) {
  write(level, fields);
}
function write(level, fields) {
  const { event, ...rest } = fields;
  const common = {};
  for (const k of COMMON_FIELDS) common[k] = rest[k] ?? null;
  if (typeof common.error === "string") common.error = redact(common.error);
  sink(JSON.stringify({ level, time: (/* @__PURE__ */ new Date()).toISOString(), event, ...common, ...rest, ...common }));
}
var CREDENTIAL_NAME = /token|secret|passw|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signature|credential|authorization|cookie/i;
var NOT_A_CREDENTIAL = /* @__PURE__ */ new Set(["page", "next", "sync", "continuation", "cursor", "type", "url", "uri", "endpoint", "expires"]);
var CREDENTIAL_PARAM = /^(key|sig|auth|password|pass)$/i;
var wordsOf = (name2) => name2.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/);
var isCredentialName = (name2) => CREDENTIAL_NAME.test(name2) && !wordsOf(name2).some((w) => NOT_A_CREDENTIAL.has(w));
var looksLikeCredential = (value) => value.length >= 8 && (/[0-9._~+/=-]/.test(value) || /[A-Z]/.test(value.slice(1)) && /[a-z]/.test(value));
var PREFIXED_SECRETS = /\b(?:(?:whsec|sk_live|sk_test|rk_live|rk_test|shpat|shpss|shpca|shppa)_[A-Za-z0-9+/=_-]+|xox[abeprs]-[A-Za-z0-9-]+|gh[opusr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|ya29\.[A-Za-z0-9._-]+|1\/\/[A-Za-z0-9_-]{20,}|pat-(?:na|eu|ap)\d-[A-Za-z0-9-]+|AIza[0-9A-Za-z_-]{30,}|AKIA[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g;
var HEADER_VALUE = /\b(authorization|proxy-authorization|cookie|set-cookie|api-?key|[a-z0-9-]*-(?:token|key|secret|signature)(?:-[a-z0-9]+)?)(\s*[:=]\s*)((?:Bearer|Basic|Digest|Token|Bot)\s+)?([^\s"';&]+)/gi;
var SCHEME_VALUE = /\b(Bearer\s+)([A-Za-z0-9._~+/=-]+)|\b(Basic\s+)([A-Za-z0-9+/=]+)/gi;
var PARAM_VALUE = /(^|[?&;\s,(])([A-Za-z0-9_.[\]-]{1,64})=([^&\s"'#,;)]*)/g;
var JSON_VALUE = /"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
var URL_PASSWORD = /(\/\/[^/\s:@]+:)([^@\s/]+)@/g;
var REDACTED = "[redacted]";
var MIN_KNOWN_SECRET = 4;
var envSecrets = /* @__PURE__ */ new Set();
function redact(text, knownSecrets2 = []) {
  let out = text;
  const secrets = [...knownSecrets2.filter((s) => s && s.length >= MIN_KNOWN_SECRET), ...envSecrets];
  for (const secret of secrets.sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  out = out.replace(PREFIXED_SECRETS, REDACTED);
  out = out.replace(
    HEADER_VALUE,
    (m, name2, sep, scheme, value) => looksLikeCredential(value) ? `${name2}${sep}${scheme ?? ""}${REDACTED}` : m
  );
  out = out.replace(
    SCHEME_VALUE,
    (m, bearer, token, basic, pair) => looksLikeCredential(token ?? pair) ? `${bearer ?? basic}${REDACTED}` : m
  );
  out = out.replace(
    PARAM_VALUE,
    (m, lead, name2, value) => value && value !== REDACTED && (isCredentialName(name2) || CREDENTIAL_PARAM.test(name2)) ? `${lead}${name2}=${REDACTED}` : m
  );
  out = out.replace(
    JSON_VALUE,
    (m, name2, sep, value) => value && value !== REDACTED && isCredentialName(name2) ? `"${name2}"${sep}"${REDACTED}"` : m
  );
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return out;
}
function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

// sidecar/src/log.ts
function log(level, fields, secrets = knownSecrets) {
  const out = { ...fields };
  if (typeof out.error === "string") out.error = redact(out.error, secrets);
  logSidecar(level, { pattern: "cdc", ...out });
}
var knownSecrets = [];
function registerSecrets(secrets) {
  knownSecrets = secrets.filter(Boolean);
}

// sidecar/src/lsn.ts
function parseLsn(text) {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return BigInt(`0x${m[1]}`) << 32n | BigInt(`0x${m[2]}`);
}
function formatLsn(lsn) {
  const n = Number(lsn);
  if (Number.isSafeInteger(n))
    return `${Math.floor(n / 4294967296).toString(16).toUpperCase()}/${(n % 4294967296).toString(16).toUpperCase()}`;
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

// sidecar/src/replication/sql-quote.ts
function quoteIdent(name2) {
  if (name2.includes("\0")) throw new Error("identifier contains a NUL byte");
  return `"${name2.replace(/"/g, '""')}"`;
}
function quoteLiteral(value) {
  if (value.includes("\0")) throw new Error("literal contains a NUL byte");
  return `'${value.replace(/'/g, "''")}'`;
}

// sidecar/src/replication/slot-setup.ts
var SlotInvalidated = class extends Error {
  name = "SlotInvalidated";
  constructor(slot, detail) {
    super(
      `replication slot "${slot}" is invalidated (${detail}): Postgres removed WAL the slot still needed, so changes were lost and streaming cannot resume. Recovery: drop the slot (SELECT pg_drop_replication_slot('${slot}')), delete the sidecar's state file, and start the sidecar again: it creates a new slot and re-snapshots the tables (see sidecar/README.md).`
    );
  }
};
var ReplicationReleased = class extends Error {
  name = "ReplicationReleased";
  constructor(pausedMs) {
    super(
      `no delivery was accepted for ${Math.round(pausedMs / 1e3)} s with the replication socket paused; released the replication connection so Postgres can manage the slot, and will reconnect`
    );
  }
};
async function ensurePublication(db, publication, tables) {
  const found = await db.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]);
  if (found.rowCount) return false;
  const target = tables.length === 0 ? "FOR ALL TABLES" : `FOR TABLE ${tables.map((t) => {
    const [schema, table] = t.includes(".") ? [t.slice(0, t.indexOf(".")), t.slice(t.indexOf(".") + 1)] : ["public", t];
    return `${quoteIdent(schema)}.${quoteIdent(table)}`;
  }).join(", ")}`;
  await db.query(`CREATE PUBLICATION ${quoteIdent(publication)} ${target}`);
  return true;
}
async function slotState(db, slot) {
  const res = await db.query(
    `SELECT plugin, active, active_pid, confirmed_flush_lsn::text AS confirmed, restart_lsn::text AS restart,
            wal_status, safe_wal_size::text AS safe,
            (pg_current_wal_lsn() - COALESCE(confirmed_flush_lsn, restart_lsn))::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot]
  );
  const row = res.rows[0];
  if (!row)
    return {
      exists: false,
      plugin: null,
      active: false,
      activePid: null,
      confirmedFlushLsn: null,
      restartLsn: null,
      walStatus: null,
      safeWalSize: null,
      lagBytes: null
    };
  return {
    exists: true,
    plugin: row.plugin,
    active: row.active === true,
    activePid: row.active_pid === null ? null : Number(row.active_pid),
    confirmedFlushLsn: row.confirmed ? parseLsn(row.confirmed) : null,
    restartLsn: row.restart ? parseLsn(row.restart) : null,
    walStatus: row.wal_status ?? null,
    safeWalSize: row.safe === null ? null : Number(row.safe),
    lagBytes: row.lag === null ? null : Number(row.lag)
  };
}
async function primaryKeyOf(db, relationId) {
  const res = await db.query(
    `SELECT a.attname::text AS col
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [relationId]
  );
  return res.rows.map((r) => r.col);
}

// sidecar/src/sidecar.ts
import pg3 from "pg";

// sidecar/src/delivery/byte-writer.ts
import { isUtf8 } from "node:buffer";
var BACKSLASH = 92;
var QUOTE = 34;
var HEX = Buffer.from("0123456789abcdef", "latin1");
var HEX_UPPER = Buffer.from("0123456789ABCDEF", "latin1");
var SHORT_ESCAPE = { 8: 98, 9: 116, 10: 110, 12: 102, 13: 114 };
var ByteWriter = class _ByteWriter {
  buf;
  pos = 0;
  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  /** A writer over a buffer handed in (from another thread), with `pos` bytes already written. */
  static over(buf, pos = 0) {
    const w = new _ByteWriter(0);
    w.buf = buf;
    w.pos = pos;
    return w;
  }
  ensure(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 256);
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(c) {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }
  bytes(b) {
    this.ensure(b.length);
    if (b.length > 32) this.buf.set(b, this.pos);
    else for (let i = 0; i < b.length; i++) this.buf[this.pos + i] = b[i];
    this.pos += b.length;
  }
  /** Bytes `src[a, b)` as they are. */
  range(src, a, b) {
    this.ensure(b - a);
    for (let i = a; i < b; i++) this.buf[this.pos++] = src[i];
  }
  /** A string known to be ASCII (hex, LSNs, ISO times, numbers). */
  ascii(s) {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, "latin1");
  }
  utf8(s) {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }
  /** An unsigned 32-bit number in upper-case hex without leading zeros (half of an LSN). */
  hexUpper(n) {
    this.ensure(8);
    let started = false;
    for (let shift = 28; shift >= 0; shift -= 4) {
      const d = n >>> shift & 15;
      if (d !== 0 || started || shift === 0) {
        this.buf[this.pos++] = HEX_UPPER[d];
        started = true;
      }
    }
  }
  /**
   * The text of UTF-8 bytes `src[a, b)`, twice escaped, exactly as
   * `JSON.stringify(JSON.stringify(text))` writes it between its outer quotes. Bytes that are not
   * UTF-8 are first decoded with replacement characters, as `toString("utf8")` would.
   */
  twiceEscaped(src, a, b) {
    this.ensure((b - a) * 7);
    const out = this.buf;
    let p = this.pos;
    let wide = false;
    for (let i = a; i < b; i++) {
      const c = src[i];
      if (c >= 32 && c !== QUOTE && c !== BACKSLASH) {
        out[p++] = c;
        if (c >= 128) wide = true;
      } else p = escapeTwice(out, p, c);
    }
    if (wide && !isUtf8(src.subarray(a, b))) {
      this.twiceEscapedString(Buffer.from(src.buffer, src.byteOffset + a, b - a).toString("utf8"));
      return;
    }
    this.pos = p;
  }
  twiceEscapedString(s) {
    const twice = JSON.stringify(JSON.stringify(s));
    this.utf8(twice.slice(3, -3));
  }
  subarray(a = 0, b = this.pos) {
    return this.buf.subarray(a, b);
  }
};
function isUtf8Range(src, a, b) {
  for (let i = a; i < b; i++) if (src[i] >= 128) return isUtf8(src.subarray(a, b));
  return true;
}
function escapeTwice(out, p, c) {
  out[p++] = BACKSLASH;
  out[p++] = BACKSLASH;
  if (c === QUOTE || c === BACKSLASH) {
    out[p++] = BACKSLASH;
    out[p++] = c;
    return p;
  }
  const short = SHORT_ESCAPE[c];
  if (short !== void 0) {
    out[p++] = short;
    return p;
  }
  out[p++] = 117;
  out[p++] = 48;
  out[p++] = 48;
  out[p++] = HEX[c >> 4];
  out[p++] = HEX[c & 15];
  return p;
}

// sidecar/src/delivery/line-fragment.ts
function lineFragment(json) {
  return Buffer.from(JSON.stringify(json).slice(1, -1), "utf8");
}
var J = (s) => JSON.stringify(s);

// sidecar/src/pgoutput/messages.ts
var UNCHANGED_TOAST = /* @__PURE__ */ Symbol("unchanged-toast");

// sidecar/src/pgoutput/decode.ts
var Reader = class {
  constructor(buf) {
    this.buf = buf;
  }
  pos = 0;
  u8() {
    this.need(1);
    return this.buf[this.pos++];
  }
  i16() {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32() {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32() {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64() {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64() {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  cstring() {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgoutputError("unterminated string");
    const s = this.buf.toString("utf8", this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n) {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  text(n) {
    this.need(n);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  need(n) {
    if (this.pos + n > this.buf.length) throw new PgoutputError(`message truncated at byte ${this.pos}`);
  }
};
var PgoutputError = class extends Error {
  name = "PgoutputError";
};
function tuple(r) {
  const n = r.i16();
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 110) out[i] = null;
    else if (kind === 117) out[i] = UNCHANGED_TOAST;
    else if (kind === 116) out[i] = r.text(r.i32());
    else if (kind === 98) throw new PgoutputError("binary tuple data is not supported; start replication without binary 'true'");
    else throw new PgoutputError(`unknown tuple column kind 0x${kind.toString(16)}`);
  }
  return out;
}
function oldKind(byte) {
  if (byte === 75) return "K";
  if (byte === 79) return "O";
  throw new PgoutputError(`expected 'K' or 'O', got 0x${byte.toString(16)}`);
}
function decodePgoutput(buf) {
  const r = new Reader(buf);
  const tag = r.u8();
  switch (tag) {
    case 66:
      return { tag: "begin", finalLsn: r.u64(), commitTime: r.i64(), xid: r.u32() };
    case 67:
      return { tag: "commit", flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    case 79:
      return { tag: "origin", lsn: r.u64(), name: r.cstring() };
    case 82: {
      const relationId = r.u32();
      const schema = r.cstring();
      const name2 = r.cstring();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ isKey: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return { tag: "relation", relationId, schema, name: name2, replicaIdentity, columns };
    }
    case 89:
      return { tag: "type", typeOid: r.u32(), schema: r.cstring(), name: r.cstring() };
    case 73: {
      const relationId = r.u32();
      const n = r.u8();
      if (n !== 78) throw new PgoutputError(`insert: expected 'N', got 0x${n.toString(16)}`);
      return { tag: "insert", relationId, newTuple: tuple(r) };
    }
    case 85: {
      const relationId = r.u32();
      let kind = r.u8();
      let old = null;
      let oldTuple = null;
      if (kind !== 78) {
        old = oldKind(kind);
        oldTuple = tuple(r);
        kind = r.u8();
      }
      if (kind !== 78) throw new PgoutputError(`update: expected 'N', got 0x${kind.toString(16)}`);
      return { tag: "update", relationId, oldKind: old, oldTuple, newTuple: tuple(r) };
    }
    case 68: {
      const relationId = r.u32();
      const kind = oldKind(r.u8());
      return { tag: "delete", relationId, oldKind: kind, oldTuple: tuple(r) };
    }
    case 84: {
      const n = r.i32();
      const options = r.u8();
      const relationIds = [];
      for (let i = 0; i < n; i++) relationIds.push(r.u32());
      return { tag: "truncate", cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationIds };
    }
    case 77: {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      const content = Buffer.from(r.bytes(r.i32()));
      return { tag: "message", transactional: (flags & 1) === 1, lsn, prefix, content };
    }
    default:
      throw new PgoutputError(`unknown pgoutput message '${String.fromCharCode(tag)}' (0x${tag.toString(16)})`);
  }
}
var PG_EPOCH_MS = 946684800000n;
function pgTimeToIso(micros) {
  const ms = micros / 1000n + PG_EPOCH_MS;
  const iso = new Date(Number(ms)).toISOString();
  const extra = (micros % 1000n + 1000n) % 1000n;
  return `${iso.slice(0, 23)}${extra.toString().padStart(3, "0")}Z`;
}

// sidecar/src/cdc/dock-id.ts
import { hash } from "node:crypto";
function dockIdSync(source, stream, key, version) {
  return hash("sha256", `${source}
${stream}
${key}
${version}`, "hex").slice(0, 32);
}
var HEX2 = Buffer.from("0123456789abcdef", "latin1");
var DockIdWriter = class {
  constructor(input = new ByteWriter(1024)) {
    this.input = input;
  }
  views = [];
  viewsOf = null;
  /** Hashes `input[0, input.pos)` and writes the id at `out[p]`; returns `p + 32`. */
  write(out, p) {
    const buf = this.input.buf;
    if (buf !== this.viewsOf) {
      this.views = [];
      this.viewsOf = buf;
    }
    const n = this.input.pos;
    let view = this.views[n];
    if (view === void 0) view = this.views[n] = buf.subarray(0, n);
    const digest = hash("sha256", view, "binary");
    for (let k = 0; k < 16; k++) {
      const c = digest.charCodeAt(k);
      out[p++] = HEX2[c >> 4];
      out[p++] = HEX2[c & 15];
    }
    return p;
  }
};

// sidecar/src/cdc/change-encoder.ts
var T = 116;
var N = 110;
var U = 117;
var B = 98;
var NEW = 78;
var KEY = 75;
var OLD = 79;
var TupleSpans = class {
  n = 0;
  kind = new Uint8Array(64);
  start = new Int32Array(64);
  end = new Int32Array(64);
  read(msg, pos, limit) {
    if (pos + 2 > limit) throw truncated(pos);
    const n = msg.readInt16BE(pos);
    pos += 2;
    if (n > this.kind.length) {
      this.kind = new Uint8Array(n);
      this.start = new Int32Array(n);
      this.end = new Int32Array(n);
    }
    for (let i = 0; i < n; i++) {
      if (pos >= limit) throw truncated(pos);
      const k = msg[pos++];
      this.kind[i] = k;
      if (k === T) {
        if (pos + 4 > limit) throw truncated(pos);
        const len = msg.readInt32BE(pos);
        pos += 4;
        if (len < 0 || pos + len > limit) throw truncated(pos);
        this.start[i] = pos;
        this.end[i] = pos + len;
        pos += len;
      } else if (k === B) throw new PgoutputError("binary tuple data is not supported; start replication without binary 'true'");
      else if (k !== N && k !== U) throw new PgoutputError(`unknown tuple column kind 0x${k.toString(16)}`);
    }
    this.n = n;
    return pos;
  }
  text(msg, i) {
    return this.kind[i] === T ? msg.toString("utf8", this.start[i], this.end[i]) : null;
  }
};
var truncated = (pos) => new PgoutputError(`message truncated at byte ${pos}`);
var REC_ID = Buffer.from('{"id":"');
var REC_LINE = Buffer.concat([Buffer.from('","line":"'), lineFragment('{"_dock":{"id":"')]);
var VERSION = lineFragment('","version":"');
var QUOTE2 = lineFragment('"');
var NULL = Buffer.from("null");
var DATA = lineFragment('},"data":');
var END = Buffer.concat([lineFragment("}"), Buffer.from('"}')]);
var OLD_TUPLE_KEY = lineFragment(',"old_tuple":"key"');
var OLD_KEY = lineFragment(',"old_tuple":"key","old":');
var OLD_FULL = lineFragment(',"old_tuple":"full","old":');
var ChangeEncoder = class {
  constructor(source, runId, receivedAt, scratch) {
    this.source = source;
    this.runId = runId;
    this.receivedAt = receivedAt;
    this.hashInput = scratch;
    this.ids = new DockIdWriter(scratch);
    this.opBytes = {
      insert: lineFragment('","op":"insert","received_at":"'),
      update: lineFragment('","op":"update","received_at":"'),
      delete: lineFragment('","op":"delete","received_at":"')
    };
  }
  newTuple = new TupleSpans();
  oldTuple = new TupleSpans();
  relationBytes = /* @__PURE__ */ new WeakMap();
  opBytes;
  hashInput;
  ids;
  txBytes = null;
  clockText = "";
  clockBytes = Buffer.alloc(0);
  lastHi = -1;
  lastLo = -1;
  repeat = 0;
  /** Called at Begin: the transaction's facts, and versions restart their `#n` count. */
  beginTransaction(tx) {
    this.txBytes = lineFragment(`","commit_lsn":"${tx.commitLsnText}","xid":${tx.xid},"commit_time":"${tx.commitTime}"`);
    this.lastHi = -1;
    this.lastLo = -1;
    this.repeat = 0;
  }
  endTransaction() {
    this.txBytes = null;
  }
  /**
   * Encodes the change in `msg[offset, end)` (its first byte is I, U or D) whose WAL position is
   * `hi/lo`, into the sink's records for its stream. Returns the stream.
   */
  encode(msg, offset, hi, lo, relationOf, sink2) {
    const limit = msg.length;
    if (offset + 6 > limit) throw truncated(offset);
    const tag = msg[offset];
    const rel = relationOf(msg.readUInt32BE(offset + 1));
    let pos = offset + 5;
    let op;
    let row = this.newTuple;
    let onlyKey = false;
    let oldKind2 = 0;
    if (tag === 73) {
      op = "insert";
      if (msg[pos] !== NEW) throw new PgoutputError(`insert: expected 'N', got 0x${(msg[pos] ?? 0).toString(16)}`);
      this.newTuple.read(msg, pos + 1, limit);
    } else if (tag === 85) {
      op = "update";
      let k = msg[pos++];
      if (k !== NEW) {
        if (k !== KEY && k !== OLD) throw new PgoutputError(`expected 'K' or 'O', got 0x${k.toString(16)}`);
        oldKind2 = k;
        pos = this.oldTuple.read(msg, pos, limit);
        if (pos >= limit) throw truncated(pos);
        k = msg[pos++];
      }
      if (k !== NEW) throw new PgoutputError(`update: expected 'N', got 0x${k.toString(16)}`);
      this.newTuple.read(msg, pos, limit);
    } else if (tag === 68) {
      op = "delete";
      const k = msg[pos++];
      if (k !== KEY && k !== OLD) throw new PgoutputError(`expected 'K' or 'O', got 0x${k.toString(16)}`);
      this.oldTuple.read(msg, pos, limit);
      row = this.oldTuple;
      onlyKey = k === KEY;
    } else throw new PgoutputError(`not a change message: 0x${tag.toString(16)}`);
    if (!this.txBytes) throw new Error(`change at ${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()} outside a transaction`);
    if (row.n > rel.columns.length || oldKind2 !== 0 && this.oldTuple.n > rel.columns.length)
      throw new Error(`tuple of ${rel.stream} has more columns than its Relation message`);
    const rb = this.bytesOf(rel);
    if (hi === this.lastHi && lo === this.lastLo) this.repeat++;
    else {
      this.lastHi = hi;
      this.lastLo = lo;
      this.repeat = 0;
    }
    const ks = rel.keyIndexes;
    const k0 = ks[0];
    const simpleKey = ks.length === 1 && k0 < row.n && row.kind[k0] === T && isUtf8Range(msg, row.start[k0], row.end[k0]);
    const keyText = simpleKey ? null : compositeKey(ks, msg, row);
    const h = this.hashInput;
    h.pos = 0;
    h.bytes(rb.hashPrefix);
    if (keyText === null) h.range(msg, row.start[k0], row.end[k0]);
    else h.utf8(keyText);
    h.byte(10);
    const versionStart = h.pos;
    h.hexUpper(hi);
    h.byte(47);
    h.hexUpper(lo);
    const lsnEnd = h.pos;
    if (this.repeat > 0) h.ascii(`#${this.repeat}`);
    const out = sink2.records(rel.stream);
    const w = out.w;
    const start = w.pos;
    w.bytes(REC_ID);
    w.ensure(32);
    const idAt = w.pos;
    w.pos = this.ids.write(w.buf, w.pos);
    w.bytes(REC_LINE);
    w.range(w.buf, idAt, idAt + 32);
    w.bytes(rb.afterId);
    if (keyText === null) w.twiceEscaped(msg, row.start[k0], row.end[k0]);
    else w.twiceEscapedString(keyText);
    w.bytes(VERSION);
    w.range(h.buf, versionStart, h.pos);
    w.bytes(this.opBytes[op]);
    w.bytes(this.clock());
    w.range(h.buf, versionStart, lsnEnd);
    w.bytes(this.txBytes);
    if (onlyKey) w.bytes(OLD_TUPLE_KEY);
    const unchanged = unchangedColumns(rel, row, onlyKey);
    if (unchanged) w.bytes(lineFragment(`,"unchanged_toast":${JSON.stringify(unchanged)}`));
    if (oldKind2 !== 0) {
      w.bytes(oldKind2 === KEY ? OLD_KEY : OLD_FULL);
      writeRow(w, rel, rb, msg, this.oldTuple, oldKind2 === KEY);
    }
    w.bytes(DATA);
    writeRow(w, rel, rb, msg, row, onlyKey);
    w.bytes(END);
    sink2.added(out.close(start));
    return rel.stream;
  }
  clock() {
    const now = this.receivedAt();
    if (now !== this.clockText) {
      this.clockText = now;
      this.clockBytes = Buffer.concat([Buffer.from(now, "latin1"), lineFragment(`","run_id":${J(this.runId)},"lsn":"`)]);
    }
    return this.clockBytes;
  }
  bytesOf(rel) {
    let rb = this.relationBytes.get(rel);
    if (!rb) {
      rb = {
        hashPrefix: Buffer.from(`${this.source}
${rel.stream}
`, "utf8"),
        afterId: lineFragment(`","source":${J(this.source)},"stream":${J(rel.stream)},"pattern":"cdc","key":"`),
        columnKeys: rel.columns.map((c) => lineFragment(`${J(c.name)}:`))
      };
      this.relationBytes.set(rel, rb);
    }
    return rb;
  }
};
function writeRow(w, rel, rb, msg, t, onlyKey) {
  w.byte(123);
  const n = onlyKey ? rel.keyIndexes.length : t.n;
  let first = true;
  for (let j = 0; j < n; j++) {
    const i = onlyKey ? rel.keyIndexes[j] : j;
    const kind = i < t.n ? t.kind[i] : N;
    if (kind === U) continue;
    if (!first) w.byte(44);
    first = false;
    w.bytes(rb.columnKeys[i]);
    if (kind === T) {
      w.bytes(QUOTE2);
      w.twiceEscaped(msg, t.start[i], t.end[i]);
      w.bytes(QUOTE2);
    } else w.bytes(NULL);
  }
  w.byte(125);
}
function unchangedColumns(rel, t, onlyKey) {
  const names = [];
  const n = onlyKey ? rel.keyIndexes.length : t.n;
  for (let j = 0; j < n; j++) {
    const i = onlyKey ? rel.keyIndexes[j] : j;
    if (i < t.n && t.kind[i] === U) names.push(rel.columns[i]?.name ?? String(i));
  }
  return names.length > 0 ? names : null;
}
function compositeKey(ks, msg, t) {
  if (ks.length === 0) return "";
  if (ks.length === 1) {
    const v = ks[0] < t.n ? t.text(msg, ks[0]) : null;
    if (v !== null) return v;
  }
  return JSON.stringify(ks.map((i) => i < t.n ? t.text(msg, i) : null));
}

// sidecar/src/cdc/stream-name.ts
import { createHash } from "node:crypto";
var SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
function streamName(schema, table, suffix = "") {
  const original = `${schema}.${table}${suffix}`;
  if (SAFE.test(original) && !original.includes("..")) return original;
  const hash2 = createHash("sha256").update(original).digest("hex").slice(0, 8);
  let cleaned = original.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/\.{2,}/g, "_");
  if (!/^[A-Za-z0-9_]/.test(cleaned)) cleaned = `_${cleaned}`;
  return `${cleaned.slice(0, 118)}-${hash2}`;
}

// sidecar/src/cdc/change-handler.ts
var INSERT = 73;
var UPDATE = 85;
var DELETE = 68;
var ChangeHandler = class {
  constructor(relations, encoder, builder, sink2, heartbeatPrefix) {
    this.relations = relations;
    this.encoder = encoder;
    this.builder = builder;
    this.sink = sink2;
    this.heartbeatPrefix = heartbeatPrefix;
    this.relationOf = (id) => this.relations.get(id);
  }
  tx = null;
  stats = { changes: 0, transactions: 0, heartbeats: 0, lastCommitEnd: 0n, lastCommitTime: null, receivedLsn: 0n };
  relationOf;
  get inTransaction() {
    return this.tx !== null;
  }
  /** One pgoutput message, `msg[offset…]`, sent at WAL position `hi/lo` (the two halves of the LSN). */
  handle(msg, offset, hi, lo) {
    const tag = msg[offset];
    if (tag === INSERT || tag === UPDATE || tag === DELETE) {
      this.encoder.encode(msg, offset, hi, lo, this.relationOf, this.sink);
      this.stats.changes++;
      return;
    }
    const lsn = BigInt(hi) << 32n | BigInt(lo);
    if (lsn > this.stats.receivedLsn) this.stats.receivedLsn = lsn;
    const m = decodePgoutput(msg.subarray(offset));
    switch (m.tag) {
      case "begin":
        if (this.tx) throw new Error(`Begin at ${formatLsn(lsn)} inside an open transaction`);
        this.tx = { xid: m.xid, commitLsn: m.finalLsn, commitLsnText: formatLsn(m.finalLsn), commitTime: pgTimeToIso(m.commitTime) };
        this.builder.resetTransaction();
        this.encoder.beginTransaction(this.tx);
        return;
      case "commit":
        if (!this.tx) throw new Error(`Commit at ${formatLsn(lsn)} without a Begin`);
        this.tx = null;
        this.encoder.endTransaction();
        this.stats.transactions++;
        this.stats.lastCommitEnd = m.endLsn;
        this.stats.lastCommitTime = pgTimeToIso(m.commitTime);
        this.sink.commit(m.endLsn);
        return;
      case "relation": {
        const rel = this.relations.set(m);
        this.sink.add(this.builder.schema(rel, streamName(m.schema, m.name, "._schema"), lsn));
        return;
      }
      case "truncate": {
        if (!this.tx) throw new Error(`change at ${formatLsn(lsn)} outside a transaction`);
        for (const id of m.relationIds) {
          this.sink.add(this.builder.truncate(this.relations.get(id), lsn, this.tx, m));
          this.stats.changes++;
        }
        return;
      }
      case "message":
        if (m.prefix === this.heartbeatPrefix) this.stats.heartbeats++;
        return;
      default:
        return;
    }
  }
};

// src/envelope/envelope.ts
function toSingleLine(json) {
  return /[\r\n]/.test(json) ? json.replace(/[\r\n]/g, " ") : json;
}
function envelopeLine(meta, payload) {
  const { extra, ...fixed } = meta;
  const dock = JSON.stringify(extra ? { ...fixed, ...extra } : fixed);
  if ("json" in payload) return `{"_dock":${dock},"data":${toSingleLine(payload.json)}}`;
  if ("raw" in payload) return `{"_dock":${dock},"raw":${JSON.stringify(payload.raw)}}`;
  return `{"_dock":${dock},"raw_base64":${JSON.stringify(payload.rawBase64)}}`;
}
var strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

// sidecar/src/cdc/change-records.ts
var ChangeRecordBuilder = class {
  constructor(source, runId, receivedAt, pattern = "cdc") {
    this.source = source;
    this.runId = runId;
    this.receivedAt = receivedAt;
    this.pattern = pattern;
  }
  lastLsn = -1n;
  repeat = 0;
  /** Called at Begin: versions are made unique within a transaction, deterministically. */
  resetTransaction() {
    this.lastLsn = -1n;
    this.repeat = 0;
  }
  /** The change's LSN; a repeated LSN (a multi-insert record carries many rows) gets `#n`. */
  version(lsnText, lsn) {
    if (lsn === this.lastLsn) this.repeat++;
    else {
      this.lastLsn = lsn;
      this.repeat = 0;
    }
    return this.repeat === 0 ? lsnText : `${lsnText}#${this.repeat}`;
  }
  /** TRUNCATE of one table: a delete of every row, as one record with an empty key. */
  truncate(rel, lsn, tx, flags) {
    const lsnText = formatLsn(lsn);
    const extra = {
      lsn: lsnText,
      commit_lsn: tx.commitLsnText,
      xid: tx.xid,
      commit_time: tx.commitTime,
      truncate: true,
      cascade: flags.cascade,
      restart_identity: flags.restartIdentity
    };
    return this.record(rel.stream, "", this.version(lsnText, lsn), "delete", extra, "{}");
  }
  /** One record per schema version of a table, on `<schema>.<table>._schema`, keyed by the table. */
  schema(rel, schemaStream, lsn) {
    const data = JSON.stringify({
      relation_id: rel.relationId,
      schema: rel.schema,
      table: rel.name,
      replica_identity: rel.replicaIdentity,
      columns: rel.columns.map((c) => ({ name: c.name, type_oid: c.typeOid, type_mod: c.typeMod, key: c.isKey }))
    });
    const version = dockIdSync("", "", "", data).slice(0, 16);
    return this.record(schemaStream, `${rel.schema}.${rel.name}`, version, "event", { lsn: formatLsn(lsn) }, data);
  }
  record(stream, key, version, op, extra, json) {
    const id = dockIdSync(this.source, stream, key, version);
    const meta = {
      id,
      source: this.source,
      stream,
      pattern: this.pattern,
      key,
      version,
      op,
      received_at: this.receivedAt(),
      run_id: this.runId,
      // `extra` may hold arrays and objects of strings (unchanged_toast, old): JSON.stringify keeps them exact.
      extra
    };
    return { stream, id, line: envelopeLine(meta, { json }) };
  }
};

// sidecar/src/cdc/relations.ts
var RelationCache = class {
  byId = /* @__PURE__ */ new Map();
  /** Primary keys read for FULL Relation messages not yet `set`, by relation OID. */
  readKeys = /* @__PURE__ */ new Map();
  /** Whether this Relation message must wait until its table's primary key has been read. */
  awaitsPrimaryKey(msg) {
    return msg.replicaIdentity === "f" && !this.readKeys.has(msg.relationId);
  }
  /** The primary-key columns of relation `relationId` (empty: it has none), for its next Relation message. */
  primaryKeyRead(relationId, columns) {
    this.readKeys.set(relationId, columns);
  }
  set(msg) {
    const primaryKey = this.readKeys.get(msg.relationId);
    this.readKeys.delete(msg.relationId);
    const info = {
      relationId: msg.relationId,
      schema: msg.schema,
      name: msg.name,
      stream: streamName(msg.schema, msg.name),
      replicaIdentity: msg.replicaIdentity,
      columns: msg.columns,
      keyIndexes: keyIndexes(msg, primaryKey)
    };
    this.byId.set(msg.relationId, info);
    return info;
  }
  get(relationId) {
    const info = this.byId.get(relationId);
    if (!info) throw new Error(`change for relation ${relationId} before its Relation message`);
    return info;
  }
};
function keyIndexes(msg, primaryKey) {
  if (msg.replicaIdentity === "f" && primaryKey && primaryKey.length > 0) {
    const idx = primaryKey.map((name2) => msg.columns.findIndex((c) => c.name === name2));
    if (idx.every((i) => i >= 0)) return idx;
  }
  const flagged = msg.columns.flatMap((c, i) => c.isKey ? [i] : []);
  return flagged;
}

// sidecar/src/clock.ts
function cachedIsoClock() {
  let at = 0;
  let text = "";
  return () => {
    const now = Date.now();
    if (now !== at) {
      at = now;
      text = new Date(now).toISOString();
    }
    return text;
  };
}
function newRunId(slot) {
  const stamp = (/* @__PURE__ */ new Date()).toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `${slot}-${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}

// sidecar/src/delivery/ack-tracker.ts
var AckTracker = class {
  pending = /* @__PURE__ */ new Map();
  next = 0;
  head = 0;
  durableLsn;
  lastCommitEnd;
  /** Floor of the batch still being filled, or null when it holds no change. */
  openFloor = null;
  constructor(start) {
    this.durableLsn = start;
    this.lastCommitEnd = start;
  }
  get durable() {
    return this.durableLsn;
  }
  get inFlight() {
    return this.pending.size;
  }
  get idle() {
    return this.pending.size === 0 && this.openFloor === null;
  }
  /** The open batch received its first change. */
  opened() {
    if (this.openFloor === null) this.openFloor = this.lastCommitEnd;
  }
  /** A transaction committed; returns the durable LSN if it moved. */
  committed(endLsn) {
    if (endLsn > this.lastCommitEnd) this.lastCommitEnd = endLsn;
    return this.advance();
  }
  /** The open batch was cut and sent; returns its number. */
  sent() {
    const seq = this.next++;
    this.pending.set(seq, { floor: this.openFloor ?? this.lastCommitEnd, done: false });
    this.openFloor = null;
    return seq;
  }
  /** A batch was answered 2xx; returns the durable LSN if it moved. */
  complete(seq) {
    const entry = this.pending.get(seq);
    if (!entry) throw new Error(`unknown batch ${seq}`);
    entry.done = true;
    for (let e = this.pending.get(this.head); e?.done; e = this.pending.get(this.head)) {
      this.pending.delete(this.head);
      this.head++;
    }
    return this.advance();
  }
  /**
   * With nothing received and unconfirmed, the server's reported position is safe to confirm:
   * it lets a quiet publication release WAL that other tables produced.
   */
  advanceIdle(serverWalEnd) {
    if (!this.idle || serverWalEnd <= this.durableLsn) return null;
    this.durableLsn = serverWalEnd;
    if (serverWalEnd > this.lastCommitEnd) this.lastCommitEnd = serverWalEnd;
    return this.durableLsn;
  }
  advance() {
    const first = this.pending.get(this.head);
    const candidate = first ? first.floor : this.openFloor ?? this.lastCommitEnd;
    if (candidate <= this.durableLsn) return null;
    this.durableLsn = candidate;
    return candidate;
  }
};

// sidecar/src/delivery/bundle-pack.ts
var BUNDLE_BYTES = 11e4;
var OPEN_BODY = Buffer.from('{"bundles":[');
var CLOSE = Buffer.from("]}");
var COMMA = Buffer.from(",");
function bundlePrefix(head) {
  return Buffer.from(`{"kind":"bundle","v":1,${JSON.stringify(head).slice(1, -1)},"dedupe":"bundle","records":[`, "utf8");
}
var StreamRecords = class _StreamRecords {
  w;
  ends;
  constructor(initialBytes = 64 * 1024, w, ends) {
    this.w = w ?? new ByteWriter(initialBytes);
    this.ends = ends ?? [];
  }
  /** Records encoded elsewhere (another thread): the bytes and where each record ends. */
  static over(buf, pos, ends) {
    return new _StreamRecords(0, ByteWriter.over(buf, pos), Array.from(ends));
  }
  get count() {
    return this.ends.length;
  }
  get bytes() {
    return this.w.pos;
  }
  /** Ends the record just written; returns its size in bytes with its comma. */
  close(start) {
    this.ends.push(this.w.pos);
    this.w.byte(44);
    return this.w.pos - start;
  }
  /** A record built as an envelope line (schema and truncate records, snapshots, polls, MongoDB). */
  addLine(id, line) {
    const start = this.w.pos;
    this.w.ascii(`{"id":"${id}","line":`);
    this.w.utf8(JSON.stringify(line));
    this.w.byte(125);
    return this.close(start);
  }
  clear() {
    this.w.pos = 0;
    this.ends.length = 0;
  }
  /**
   * The pieces of each bundle — its prefix, a view of its records, `]}` — each bundle at most
   * `limit` bytes unless one record alone is larger (it goes alone; the Worker claim-checks it).
   * `headOf(i)` is the i-th bundle's head. Views are valid until this is written again.
   */
  groups(headOf, limit = BUNDLE_BYTES) {
    const out = [];
    const ends = this.ends;
    let start = 0;
    for (let i = 0; i < ends.length; ) {
      const prefix = bundlePrefix(headOf(out.length));
      const room = limit - prefix.length - CLOSE.length;
      let end = ends[i++];
      while (i < ends.length && ends[i] - start <= room) end = ends[i++];
      out.push([prefix, this.w.buf.subarray(start, end), CLOSE]);
      start = end + 1;
    }
    return out;
  }
  bundles(headOf, limit = BUNDLE_BYTES) {
    return this.groups(headOf, limit).map((g) => Buffer.concat(g));
  }
};
function packStream(head, records, limit = BUNDLE_BYTES) {
  const s = new StreamRecords();
  for (const r of records) s.addLine(r.id, r.line);
  return s.bundles(() => head, limit);
}
function deliveryBody(bundles) {
  const pieces = [OPEN_BODY];
  bundles.forEach((b, i) => {
    if (i > 0) pieces.push(COMMA);
    if (Array.isArray(b)) pieces.push(...b);
    else pieces.push(b);
  });
  pieces.push(CLOSE);
  return pieces;
}

// sidecar/src/delivery/batch-pipeline.ts
var emptyBatch = () => ({ byStream: /* @__PURE__ */ new Map(), records: 0, bytes: 0 });
var BatchPipeline = class {
  constructor(opts) {
    this.opts = opts;
    this.tracker = new AckTracker(opts.startLsn);
  }
  open = emptyBatch();
  tracker;
  inFlightPromises = /* @__PURE__ */ new Set();
  capacityWaiters = [];
  lingerTimer = null;
  failed = null;
  batchCounter = 0;
  /**
   * Record buffers of answered batches, reused so that a busy stream neither regrows nor faults in
   * a fresh multi-megabyte buffer per batch. A batch's buffers are its request body until answered.
   */
  spare = [];
  delivered = 0;
  get durable() {
    return this.tracker.durable;
  }
  get inFlight() {
    return this.tracker.inFlight;
  }
  get hasCapacity() {
    return this.tracker.inFlight < this.opts.maxInFlight;
  }
  /** Nothing buffered and nothing awaiting an answer. */
  get idle() {
    return this.tracker.idle;
  }
  /** Where the next record of `stream` is written; `added` must follow once it is. */
  records(stream) {
    let list = this.open.byStream.get(stream);
    if (!list) {
      list = this.spare.pop() ?? new StreamRecords();
      this.open.byStream.set(stream, list);
    }
    return list;
  }
  added(bytes) {
    if (this.open.records === 0) this.tracker.opened();
    this.open.records++;
    this.open.bytes += bytes;
    if (this.open.records >= this.opts.maxRecords || this.open.bytes >= this.opts.maxBytes) this.cut();
  }
  /** A record built as an envelope line. */
  add(record2) {
    this.added(this.records(record2.stream).addLine(record2.id, record2.line));
  }
  /** A transaction committed: every change before this call belongs to batches up to the open one. */
  commit(endLsn) {
    const moved = this.tracker.committed(endLsn);
    if (moved !== null) this.opts.onDurable(moved);
    if (this.open.records > 0 && !this.lingerTimer) this.lingerTimer = setTimeout(() => this.cut(), this.opts.lingerMs);
  }
  advanceIdle(walEnd) {
    if (!this.idle) return;
    const moved = this.tracker.advanceIdle(walEnd);
    if (moved !== null) this.opts.onDurable(moved);
  }
  waitCapacity() {
    if (this.hasCapacity) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }
  /** Sends whatever is open (even a partial transaction) and waits for every delivery to settle. */
  async flush() {
    this.cut();
    while (this.inFlightPromises.size > 0) await Promise.allSettled([...this.inFlightPromises]);
  }
  cut() {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    const batch = this.open;
    if (batch.records === 0) return;
    this.open = emptyBatch();
    const seq = this.tracker.sent();
    const receivedAt = this.opts.now?.() ?? (/* @__PURE__ */ new Date()).toISOString();
    const groups = [];
    for (const [stream, records2] of batch.byStream) {
      const head = { source: this.opts.source, stream, pattern: "cdc", received_at: receivedAt, run_id: this.opts.runId };
      groups.push(...records2.groups(() => head));
    }
    const messageId = `${this.opts.runId}-${this.batchCounter++}`;
    const records = batch.records;
    const body = deliveryBody(groups);
    const release = () => {
      for (const list of batch.byStream.values()) {
        list.clear();
        if (this.spare.length < this.opts.maxInFlight + 1) this.spare.push(list);
      }
    };
    const p = this.opts.send(messageId, body, records).then(() => {
      this.delivered += records;
      this.settle(seq);
    }).catch((err) => {
      this.failed ??= err;
      this.opts.onFatal(err);
    }).finally(() => {
      release();
      this.inFlightPromises.delete(p);
    });
    this.inFlightPromises.add(p);
  }
  get failure() {
    return this.failed;
  }
  settle(seq) {
    const moved = this.tracker.complete(seq);
    if (moved !== null) this.opts.onDurable(moved);
    if (this.hasCapacity) {
      const waiters = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of waiters) w();
    }
  }
};

// sidecar/src/health/report-health.ts
import { randomUUID } from "node:crypto";
function healthReport(m, heartbeatAt) {
  return {
    source: m.source,
    slot: m.slot,
    state: m.state,
    slot_lag_bytes: m.slot_lag_bytes,
    wal_status: m.slot_wal_status,
    safe_wal_size: m.slot_safe_wal_size,
    heartbeat_at: heartbeatAt,
    durable_lsn: m.durable_lsn,
    error: m.error ? m.error.slice(0, 2e3) : null
  };
}
async function reportHealth(workerUrl, secret, report, timeoutMs = 5e3) {
  const body = Buffer.from(JSON.stringify(report), "utf8");
  const id = `health_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1e3);
  try {
    const res = await fetch(`${workerUrl.replace(/\/$/, "")}/ingest/health`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(ts),
        "webhook-signature": standardWebhookSignature(signingKey(secret), id, ts, body)
      },
      signal: AbortSignal.timeout(timeoutMs)
    });
    if (!res.ok) log("warn", { event: "cdc.health_report_refused", source: report.source, error: `HTTP ${res.status}` });
    return res.ok;
  } catch (err) {
    log("warn", { event: "cdc.health_report_failed", source: report.source, error: errorText(err) });
    return false;
  }
}

// sidecar/src/replication/copy-messages.ts
function parseServerCopyData(chunk) {
  const tag = chunk[0];
  if (tag === 119) {
    if (chunk.length < 25) throw new Error("XLogData shorter than its header");
    return {
      kind: "xlog",
      walStart: chunk.readBigUInt64BE(1),
      walEnd: chunk.readBigUInt64BE(9),
      sendTime: chunk.readBigInt64BE(17),
      payload: chunk.subarray(25)
    };
  }
  if (tag === 107) {
    if (chunk.length < 18) throw new Error("keepalive shorter than 18 bytes");
    return { kind: "keepalive", walEnd: chunk.readBigUInt64BE(1), sendTime: chunk.readBigInt64BE(9), replyRequested: chunk[17] === 1 };
  }
  throw new Error(`unknown replication message 0x${(tag ?? 0).toString(16)}`);
}
var PG_EPOCH_US = 946684800000000n;
function standbyStatusUpdate(durable, replyRequested = false) {
  const buf = Buffer.alloc(34);
  buf[0] = 114;
  buf.writeBigUInt64BE(durable, 1);
  buf.writeBigUInt64BE(durable, 9);
  buf.writeBigUInt64BE(durable, 17);
  buf.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_US, 25);
  buf[33] = replyRequested ? 1 : 0;
  return buf;
}

// sidecar/src/replication/replication-connection.ts
import pg from "pg";
var CopyBothQuery = class {
  constructor(text, onChunk) {
    this.text = text;
    this.onChunk = onChunk;
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }
  done;
  settle;
  error = null;
  submit(connection) {
    connection.query(this.text);
  }
  handleCopyData(msg) {
    try {
      this.onChunk(msg.chunk);
    } catch (err) {
      this.error ??= err;
    }
  }
  handleError(err) {
    this.settle.reject(err);
  }
  handleReadyForQuery() {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }
  handleCommandComplete() {
  }
  handleRowDescription() {
  }
  handleDataRow() {
  }
  handleEmptyQuery() {
  }
  handlePortalSuspended() {
  }
  handleCopyInResponse() {
  }
};
var ReplicationConnection = class {
  client;
  query = null;
  paused = false;
  constructor(config) {
    this.client = new pg.Client({ ...config, replication: "database" });
  }
  async connect() {
    await this.client.connect();
  }
  /** Runs a replication command that answers with rows (IDENTIFY_SYSTEM, CREATE_REPLICATION_SLOT …). */
  async command(text) {
    const result = await this.client.query({ text, rowMode: void 0 });
    return result.rows;
  }
  /**
   * Starts streaming `slot` from `startLsn` (0 lets the server resume at confirmed_flush_lsn).
   * Resolves when the server ends the stream; rejects on a server error (e.g. an invalidated slot).
   */
  start(slot, publication, startLsn, onChunk) {
    const options = `proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}, messages 'true'`;
    const text = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} (${options})`;
    const query = new CopyBothQuery(text, onChunk);
    this.query = query;
    this.client.query(query);
    return query.done;
  }
  get streamDone() {
    if (!this.query) throw new Error("replication not started");
    return this.query.done;
  }
  send(message) {
    this.client.connection.sendCopyFromChunk(message);
  }
  /** Stops reading the socket: the server's send buffer fills and the walsender waits. */
  pause() {
    if (this.paused) return;
    this.paused = true;
    this.socket().pause();
  }
  resume() {
    if (!this.paused) return;
    this.paused = false;
    this.socket().resume();
  }
  get isPaused() {
    return this.paused;
  }
  /** Ends the copy stream politely (CopyDone); the server answers and the stream promise settles. */
  endCopy() {
    this.client.connection.endCopyFrom();
  }
  async close() {
    this.resume();
    await this.client.end().catch(() => {
    });
  }
  socket() {
    return this.client.connection.stream;
  }
};

// sidecar/src/snapshot/initial-snapshot.ts
import pg2 from "pg";

// sidecar/src/snapshot/snapshot-version.ts
function snapshotVersion(lsn) {
  return `snapshot:${lsn}`;
}

// sidecar/src/snapshot/state-file.ts
import { existsSync as existsSync2, readFileSync as readFileSync2, renameSync, writeFileSync } from "node:fs";
import * as z2 from "zod";
var tableState = z2.object({
  /** Key values (text, in `by` order) of the last row delivered; null before the first chunk. */
  after: z2.array(z2.string()).nullable(),
  /** The columns `after` is in: the copy's paging key (absent in older files: the primary key). */
  by: z2.array(z2.string()).optional(),
  rows: z2.number().int().nonnegative(),
  done: z2.boolean()
});
var snapshotStateSchema = z2.object({
  v: z2.literal(1),
  slot: z2.string(),
  /** `creating`: the slot was being created (a crash here means a full re-copy); `copying`; `done`. */
  phase: z2.enum(["creating", "copying", "done"]),
  /** The LSN the copied rows are consistent with: their `lsn`, and their version as `snapshot:<lsn>`. */
  lsn: z2.string().nullable(),
  tables: z2.record(z2.string(), tableState)
});
function readState(file) {
  if (!existsSync2(file)) return null;
  const parsed = snapshotStateSchema.safeParse(JSON.parse(readFileSync2(file, "utf8")));
  if (!parsed.success) throw new Error(`snapshot state file ${file} is not valid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
function writeState(file, state) {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}

// sidecar/src/snapshot/table-copy.ts
var asText = { getTypeParser: () => (value) => value };
var indexColumns = (which, order) => `COALESCE((SELECT array_agg(a.attname::text ORDER BY ${order})
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.${which}), '{}')`;
async function publicationTables(db, publication) {
  const res = await db.query(
    `SELECT pt.schemaname, pt.tablename, c.relreplident::text AS ident,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            ${indexColumns("indisprimary", "k.ord")} AS pk,
            ${indexColumns("indisprimary", "a.attnum")} AS pk_by_column,
            ${indexColumns("indisreplident", "k.ord")} AS ri,
            ${indexColumns("indisreplident", "a.attnum")} AS ri_by_column
       FROM pg_publication_tables pt
       JOIN pg_namespace n ON n.nspname = pt.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE pt.pubname = $1
      ORDER BY 1, 2`,
    [publication]
  );
  return res.rows.map((r) => {
    const t = { schema: r.schemaname, name: r.tablename, columns: r.columns, primaryKey: r.pk };
    if (r.ident === "i" && r.ri.length > 0) return { ...t, key: r.ri_by_column, pageBy: r.ri };
    if (r.ident === "f") return { ...t, key: r.pk, pageBy: r.pk };
    return { ...t, key: r.pk_by_column, pageBy: r.pk };
  });
}
async function readChunk(db, t, after, limit) {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  const cols = t.columns.map(quoteIdent).join(", ");
  const pk = t.pageBy.map(quoteIdent).join(", ");
  const where = after ? `WHERE (${pk}) > (${after.map((_, i) => `$${i + 1}`).join(", ")})` : "";
  const res = await db.query({
    text: `SELECT ${cols} FROM ${table} ${where} ORDER BY ${pk} LIMIT ${Math.floor(limit)}`,
    values: after ?? [],
    rowMode: "array",
    types: asText
  });
  return res.rows;
}
async function openCursor(db, t, name2) {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  await db.query(
    `DECLARE ${quoteIdent(name2)} NO SCROLL CURSOR FOR SELECT ctid::text, ${t.columns.map(quoteIdent).join(", ")} FROM ${table}`
  );
}
async function fetchCursor(db, name2, limit) {
  const res = await db.query({ text: `FETCH ${Math.floor(limit)} FROM ${quoteIdent(name2)}`, rowMode: "array", types: asText });
  return res.rows;
}

// sidecar/src/snapshot/initial-snapshot.ts
var InitialSnapshot = class {
  constructor(config, runId, deliver, metrics, pgConfig) {
    this.config = config;
    this.runId = runId;
    this.deliver = deliver;
    this.metrics = metrics;
    this.pgConfig = pgConfig;
    this.builder = new ChangeRecordBuilder(config.CDC_SOURCE, runId, cachedIsoClock());
  }
  db = null;
  state = null;
  stopped = false;
  running = Promise.resolve();
  builder;
  /** Called before CREATE_REPLICATION_SLOT: a crash between the two must not skip the copy. */
  markCreating() {
    if (!this.config.CDC_SNAPSHOT) return;
    writeState(this.config.CDC_STATE_FILE, { v: 1, slot: this.config.CDC_SLOT, phase: "creating", lsn: null, tables: {} });
  }
  /** Imports the exported snapshot; must run before the replication connection does anything else. */
  async beginExported(snapshotName, lsn) {
    const db = await this.open();
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await db.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
    await this.plan(db, formatLsn(lsn), {});
  }
  /**
   * After a restart, and periodically while streaming: continues an unfinished copy, starts one
   * if the slot was created but the copy never planned, and backfills tables that joined the
   * publication since (in a fresh snapshot; their changes since joining are in the stream).
   * Returns whether there is copying to do.
   */
  async prepareFromState() {
    if (!this.config.CDC_SNAPSHOT) return false;
    const saved = readState(this.config.CDC_STATE_FILE);
    if (!saved || saved.slot !== this.config.CDC_SLOT) return false;
    const db = await this.open();
    const lsn = (await db.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l;
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const tables = await publicationTables(db, this.config.CDC_PUBLICATION);
    const pending = tables.filter((t) => !saved.tables[`${t.schema}.${t.name}`]?.done);
    if (saved.phase === "done" && pending.length === 0) {
      await db.end().catch(() => {
      });
      this.db = null;
      return false;
    }
    await this.plan(db, lsn, saved.tables);
    log("info", {
      event: saved.phase === "done" ? "cdc.snapshot_backfill" : "cdc.snapshot_resumed",
      source: this.config.CDC_SOURCE,
      lsn,
      tables: pending.map((t) => `${t.schema}.${t.name}`).join(",")
    });
    return true;
  }
  async resumeIfUnfinished() {
    await this.prepareFromState();
  }
  /** Starts a backfill for tables new to the publication, unless a copy is already running. */
  async checkNewTables() {
    if (this.stopped || this.copying) return;
    this.copying = true;
    let work = false;
    try {
      work = await this.prepareFromState();
    } finally {
      if (!work) this.copying = false;
    }
    if (work)
      void this.run().catch(
        (err) => log("error", { event: "cdc.snapshot_failed", source: this.config.CDC_SOURCE, error: errorText(err) })
      );
  }
  run() {
    this.running = this.copyAll();
    return this.running;
  }
  copying = false;
  stop() {
    this.stopped = true;
  }
  async settled() {
    await this.running.catch(() => {
    });
  }
  async open() {
    this.db = new pg2.Client(this.pgConfig);
    this.db.on("error", () => {
    });
    await this.db.connect();
    return this.db;
  }
  async plan(db, lsn, previous) {
    const tables = await publicationTables(db, this.config.CDC_PUBLICATION);
    const state = { v: 1, slot: this.config.CDC_SLOT, phase: "copying", lsn, tables: {} };
    for (const t of tables) {
      const key = `${t.schema}.${t.name}`;
      const prev = previous[key];
      state.tables[key] = prev && (prev.done || resumable(prev, t)) ? prev : { after: null, rows: 0, done: false, by: t.pageBy };
    }
    this.state = state;
    this.tables = tables;
    this.metrics.snapshot_done = false;
    writeState(this.config.CDC_STATE_FILE, state);
  }
  tables = [];
  async copyAll() {
    const state = this.state;
    const db = this.db;
    if (!state || !db) return;
    const started = Date.now();
    this.copying = true;
    try {
      for (const t of this.tables) {
        const key = `${t.schema}.${t.name}`;
        const ts = state.tables[key];
        if (!ts || ts.done) continue;
        await this.copyTable(db, t, state);
        if (this.stopped) return;
      }
      state.phase = "done";
      writeState(this.config.CDC_STATE_FILE, state);
      this.metrics.snapshot_done = true;
      await db.query("COMMIT");
      const rows = Object.values(state.tables).reduce((n, t) => n + t.rows, 0);
      log("info", { event: "cdc.snapshot_done", source: this.config.CDC_SOURCE, records: rows, ms: Date.now() - started, lsn: state.lsn });
    } catch (err) {
      if (!this.stopped) throw new Error(`initial snapshot failed: ${errorText(err)}`);
    } finally {
      await db.end().catch(() => {
      });
      this.db = null;
      this.state = null;
      this.copying = false;
    }
  }
  async copyTable(db, t, state) {
    const key = `${t.schema}.${t.name}`;
    const ts = state.tables[key];
    const stream = streamName(t.schema, t.name);
    const limit = this.config.CDC_SNAPSHOT_CHUNK_ROWS;
    const cursor = `dock_snapshot_${Object.keys(state.tables).indexOf(key)}`;
    const keyed = t.pageBy.length > 0;
    if (!keyed) await openCursor(db, t, cursor);
    const keyIdx = t.key.map((c) => t.columns.indexOf(c));
    const pageIdx = t.pageBy.map((c) => t.columns.indexOf(c));
    const version = snapshotVersion(state.lsn ?? "0/0");
    const columnKeys = t.columns.map((c) => `${JSON.stringify(c)}:`);
    while (!this.stopped) {
      const rows = keyed ? await readChunk(db, t, ts.after, limit) : await fetchCursor(db, cursor, limit);
      if (rows.length === 0) break;
      const records = rows.map((fetched) => {
        const row = keyed ? fetched : fetched.slice(1);
        const json = `{${row.map((v, i) => `${columnKeys[i]}${v === null ? "null" : JSON.stringify(v)}`).join(",")}}`;
        const values = keyIdx.map((i) => row[i] ?? null);
        const k = values.length === 1 && typeof values[0] === "string" ? values[0] : values.length === 0 ? `ctid:${fetched[0]}` : JSON.stringify(values);
        return this.builder.record(stream, k, version, "snapshot", { lsn: state.lsn }, json);
      });
      const head = {
        source: this.config.CDC_SOURCE,
        stream,
        pattern: "cdc",
        received_at: (/* @__PURE__ */ new Date()).toISOString(),
        run_id: this.runId
      };
      await this.deliver(`${this.runId}-snapshot-${stream}-${ts.rows}`, deliveryBody(packStream(head, records)), records.length);
      const last = rows[rows.length - 1];
      ts.after = keyed ? pageIdx.map((i) => last[i]) : null;
      ts.by = t.pageBy;
      ts.rows += rows.length;
      this.metrics.snapshot_rows += rows.length;
      writeState(this.config.CDC_STATE_FILE, state);
      if (rows.length < limit) break;
    }
    if (this.stopped) return;
    ts.done = true;
    writeState(this.config.CDC_STATE_FILE, state);
    log("info", { event: "cdc.snapshot_table_done", source: this.config.CDC_SOURCE, stream, records: ts.rows });
  }
};
function resumable(prev, t) {
  if (t.pageBy.length === 0) return false;
  if (prev.after === null) return true;
  const by = prev.by ?? t.primaryKey;
  return by.length === t.pageBy.length && by.every((c, i) => c === t.pageBy[i]);
}

// sidecar/src/sidecar.ts
var QUEUE_PAUSE_BYTES = 4 * 1024 * 1024;
var XLOG_DATA = 119;
var XLOG_HEADER = 25;
var RELATION = 82;
function pgConfigOf(config) {
  return { host: config.PGHOST, port: config.PGPORT, user: config.PGUSER, password: config.PGPASSWORD, database: config.PGDATABASE };
}
var Sidecar = class {
  constructor(config) {
    this.config = config;
    this.metrics = emptyMetrics(config.CDC_SLOT, config.CDC_SOURCE);
    this.runId = newRunId(config.CDC_SLOT);
    this.done = new Promise((resolve, reject) => {
      this.settleDone = { resolve, reject };
    });
    this.done.catch(() => {
    });
  }
  metrics;
  runId;
  done;
  settleDone;
  db;
  repl;
  pipeline;
  handler;
  relations;
  /** The primary-key read the Relation message at the head of the stream waits for. */
  keyRead = null;
  sender;
  snapshot = null;
  queue = [];
  head = 0;
  queuedBytes = 0;
  draining = null;
  streaming = false;
  stopping = false;
  finished = false;
  timers = [];
  pauseTimer = null;
  async start() {
    const c = this.config;
    this.db = new pg3.Client(pgConfigOf(c));
    this.db.on("error", (err) => this.fail(err));
    await this.db.connect();
    if (await ensurePublication(this.db, c.CDC_PUBLICATION, c.CDC_TABLES)) {
      log("info", { event: "cdc.publication_created", source: c.CDC_SOURCE, publication: c.CDC_PUBLICATION });
    }
    const slot = await slotState(this.db, c.CDC_SLOT);
    if (slot.exists && slot.walStatus === "lost") throw new SlotInvalidated(c.CDC_SLOT, "wal_status is lost");
    if (slot.exists && slot.plugin !== "pgoutput") throw new Error(`slot "${c.CDC_SLOT}" uses plugin ${slot.plugin}, not pgoutput`);
    if (slot.active) throw new Error(`slot "${c.CDC_SLOT}" is in use by process ${slot.activePid}; is another sidecar running?`);
    this.repl = new ReplicationConnection(pgConfigOf(c));
    this.repl.client.on("error", (err) => this.fail(err));
    await this.repl.connect();
    let startLsn = slot.confirmedFlushLsn ?? 0n;
    this.snapshot = new InitialSnapshot(c, this.runId, (id, body, n) => this.deliver(id, body, n), this.metrics, pgConfigOf(c));
    if (!slot.exists) {
      this.snapshot.markCreating();
      const kind = c.CDC_SNAPSHOT ? "export" : "nothing";
      const [row] = await this.repl.command(`CREATE_REPLICATION_SLOT ${quoteIdent(c.CDC_SLOT)} LOGICAL pgoutput (SNAPSHOT '${kind}')`);
      startLsn = parseLsn(row?.consistent_point ?? "0/0");
      log("info", { event: "cdc.slot_created", source: c.CDC_SOURCE, slot: c.CDC_SLOT, lsn: formatLsn(startLsn) });
      if (c.CDC_SNAPSHOT && row?.snapshot_name) await this.snapshot.beginExported(row.snapshot_name, startLsn);
    } else {
      await this.snapshot.resumeIfUnfinished();
    }
    this.sender = new SignedSender({
      url: `${c.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`,
      secret: c.CDC_INGEST_SECRET,
      onRetry: (r) => {
        this.metrics.deliveries_retried++;
        log("warn", {
          event: "cdc.delivery_retry",
          source: c.CDC_SOURCE,
          attempt: r.attempt,
          ms: r.waitMs,
          status: r.status,
          error: r.error
        });
      }
    });
    const clock = cachedIsoClock();
    this.pipeline = new BatchPipeline({
      source: c.CDC_SOURCE,
      runId: this.runId,
      maxRecords: c.CDC_BATCH_MAX_RECORDS,
      maxBytes: c.CDC_BATCH_MAX_BYTES,
      maxInFlight: c.CDC_MAX_IN_FLIGHT,
      lingerMs: c.CDC_LINGER_MS,
      startLsn,
      send: (id, body, n) => this.deliver(id, body, n),
      onDurable: (lsn) => {
        this.metrics.durable_lsn = formatLsn(lsn);
        this.sendStatus();
      },
      onFatal: (err) => this.fail(err)
    });
    this.metrics.durable_lsn = formatLsn(startLsn);
    const builder = new ChangeRecordBuilder(c.CDC_SOURCE, this.runId, clock);
    const encoder = new ChangeEncoder(c.CDC_SOURCE, this.runId, clock, new ByteWriter(1024));
    this.relations = new RelationCache();
    this.handler = new ChangeHandler(this.relations, encoder, builder, this.pipeline, c.CDC_HEARTBEAT_PREFIX);
    const stream = this.repl.start(c.CDC_SLOT, c.CDC_PUBLICATION, 0n, (chunk) => this.onChunk(chunk));
    stream.then(
      () => {
        if (!this.stopping) this.fail(new Error("the server ended the replication stream"));
      },
      (err) => {
        if (!this.stopping) this.fail(err);
      }
    );
    this.streaming = true;
    this.metrics.state = "streaming";
    this.every(c.CDC_STATUS_INTERVAL_MS, () => this.sendStatus());
    if (c.CDC_HEARTBEAT_MS > 0) this.every(c.CDC_HEARTBEAT_MS, () => this.heartbeat());
    this.every(c.CDC_SLOT_CHECK_MS, () => this.checkSlot());
    void this.checkSlot();
    if (c.CDC_HEALTH_REPORT_MS > 0) this.every(c.CDC_HEALTH_REPORT_MS, () => this.sendHealth());
    this.snapshot.run().catch((err) => this.fail(err));
    log("info", { event: "cdc.streaming", source: c.CDC_SOURCE, run_id: this.runId, slot: c.CDC_SLOT, lsn: formatLsn(startLsn) });
  }
  /** Graceful stop: finish what was received, deliver it, confirm the durable LSN, disconnect. */
  async stop() {
    if (this.stopping || this.finished) return this.done.catch(() => {
    });
    this.stopping = true;
    this.metrics.state = "stopping";
    const started = Date.now();
    if (!this.repl || !this.pipeline) return this.finish(null);
    this.repl.pause();
    this.snapshot?.stop();
    const deadline = new Promise((r) => setTimeout(() => r("timeout"), this.config.CDC_SHUTDOWN_TIMEOUT_MS).unref());
    const flushed = (async () => {
      while (this.draining) await this.draining;
      await this.pipeline.flush();
      await this.snapshot?.settled();
    })();
    const outcome = await Promise.race([flushed.then(() => "flushed"), deadline]);
    this.sendStatus();
    this.repl.endCopy();
    this.repl.resume();
    await Promise.race([this.repl.streamDone.catch(() => {
    }), new Promise((r) => setTimeout(r, 3e3).unref())]);
    log("info", {
      event: "cdc.stopped",
      source: this.config.CDC_SOURCE,
      run_id: this.runId,
      lsn: formatLsn(this.pipeline.durable),
      records: this.pipeline.delivered,
      ms: Date.now() - started,
      outcome
    });
    return this.finish(null);
  }
  async finish(err) {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearInterval(t);
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.sender?.abort();
    this.snapshot?.stop();
    await this.repl?.close();
    await this.db?.end().catch(() => {
    });
    this.metrics.state = err ? "failed" : "stopped";
    if (err) {
      this.metrics.error = errorText(err);
      this.settleDone.reject(err);
    } else this.settleDone.resolve();
  }
  fail(err) {
    if (this.finished) return;
    log("error", { event: "cdc.failed", source: this.config.CDC_SOURCE, run_id: this.runId, error: errorText(err) });
    this.stopping = true;
    void this.finish(err);
  }
  deliver(id, body, records) {
    const started = Date.now();
    return this.sender.send(id, body).then(() => {
      this.pauseTimer?.refresh();
      this.metrics.records_delivered += records;
      log("info", { event: "cdc.delivered", source: this.config.CDC_SOURCE, run_id: this.runId, records, ms: Date.now() - started });
    });
  }
  /**
   * pg hands us CopyData views into its own read buffer, which it reuses: a chunk is processed
   * at once when possible, and copied only when it has to wait in the queue.
   */
  onChunk(chunk) {
    if (this.stopping || this.finished) return;
    if (!this.draining && this.head === this.queue.length) {
      try {
        if (!this.keyReadFor(chunk)) {
          this.process(chunk);
          if (!this.pipeline.hasCapacity) {
            this.pauseSocket();
            this.draining = this.drain().finally(() => this.draining = null);
          }
          return;
        }
      } catch (err) {
        this.fail(err);
        return;
      }
    }
    const copy = Buffer.from(chunk);
    this.queue.push(copy);
    this.queuedBytes += copy.length;
    if (this.queuedBytes > QUEUE_PAUSE_BYTES) this.pauseSocket();
    if (!this.draining) this.draining = this.drain().finally(() => this.draining = null);
  }
  /** Works through queued chunks, waiting for delivery capacity between them. */
  async drain() {
    try {
      for (; ; ) {
        if (!this.pipeline.hasCapacity) {
          this.pauseSocket();
          await this.pipeline.waitCapacity();
        }
        if (this.head >= this.queue.length || this.finished) break;
        const chunk = this.queue[this.head];
        const keyRead = this.keyReadFor(chunk);
        if (keyRead) {
          await keyRead;
          continue;
        }
        this.queue[this.head++] = void 0;
        this.queuedBytes -= chunk.length;
        this.process(chunk);
      }
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
      if (this.pipeline.hasCapacity) this.resumeSocket();
    } catch (err) {
      this.fail(err);
    }
  }
  process(chunk) {
    if (chunk[0] === XLOG_DATA && chunk.length >= XLOG_HEADER) {
      this.handler.handle(chunk, XLOG_HEADER, chunk.readUInt32BE(1), chunk.readUInt32BE(5));
      return;
    }
    const m = parseServerCopyData(chunk);
    if (m.kind === "xlog") throw new Error("XLogData shorter than its header");
    if (!this.handler.inTransaction && this.head === this.queue.length) this.pipeline.advanceIdle(m.walEnd);
    if (m.replyRequested) this.sendStatus();
  }
  /**
   * For the Relation message of a REPLICA IDENTITY FULL table, the read of its primary key (the
   * record key), which the message waits for; undefined for anything else or once read. The read
   * takes one query on the session's connection, and holds the stream only while it runs.
   */
  keyReadFor(chunk) {
    if (chunk[XLOG_HEADER] !== RELATION || chunk[0] !== XLOG_DATA) return void 0;
    const m = decodePgoutput(chunk.subarray(XLOG_HEADER));
    if (m.tag !== "relation" || !this.relations.awaitsPrimaryKey(m)) return void 0;
    if (!this.keyRead) {
      const read = primaryKeyOf(this.db, m.relationId).then((columns) => this.relations.primaryKeyRead(m.relationId, columns));
      this.keyRead = read.finally(() => this.keyRead = null);
      this.keyRead.catch(() => {
      });
    }
    return this.keyRead;
  }
  pauseSocket() {
    this.repl.pause();
    this.metrics.socket_paused = true;
    if (!this.pauseTimer && !this.stopping) {
      const limit = this.config.CDC_MAX_PAUSE_MS;
      this.pauseTimer = setTimeout(() => this.fail(new ReplicationReleased(limit)), limit);
      this.pauseTimer.unref();
    }
  }
  resumeSocket() {
    if (this.stopping) return;
    this.repl.resume();
    this.metrics.socket_paused = false;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
  }
  sendStatus() {
    if (!this.streaming || this.finished) return;
    this.metrics.in_flight_batches = this.pipeline.inFlight;
    this.metrics.received_lsn = formatLsn(this.handler.stats.receivedLsn);
    Object.assign(this.metrics, {
      changes: this.handler.stats.changes,
      transactions: this.handler.stats.transactions,
      heartbeats_seen: this.handler.stats.heartbeats,
      last_commit_time: this.handler.stats.lastCommitTime
    });
    try {
      this.repl.send(standbyStatusUpdate(this.pipeline.durable));
    } catch (err) {
      this.fail(err);
    }
  }
  async heartbeat() {
    try {
      await this.db.query("SELECT pg_logical_emit_message(true, $1, $2)", [this.config.CDC_HEARTBEAT_PREFIX, (/* @__PURE__ */ new Date()).toISOString()]);
      this.metrics.heartbeats_sent++;
    } catch (err) {
      log("warn", { event: "cdc.heartbeat_failed", source: this.config.CDC_SOURCE, error: errorText(err) });
    }
  }
  heartbeatsCounted = 0;
  heartbeatAt = null;
  /** Reports slot and heartbeat health to the Worker; a heartbeat counts once it came back through the slot. */
  async sendHealth() {
    const seen = this.handler.stats.heartbeats;
    if (seen > this.heartbeatsCounted) {
      this.heartbeatsCounted = seen;
      this.heartbeatAt = (/* @__PURE__ */ new Date()).toISOString();
    }
    await reportHealth(this.config.WORKER_URL, this.config.CDC_INGEST_SECRET, healthReport(this.metrics, this.heartbeatAt));
  }
  async checkSlot() {
    if (this.finished) return;
    try {
      const s = await slotState(this.db, this.config.CDC_SLOT);
      Object.assign(this.metrics, {
        slot_lag_bytes: s.lagBytes,
        slot_wal_status: s.walStatus,
        slot_safe_wal_size: s.safeWalSize,
        slot_checked_at: (/* @__PURE__ */ new Date()).toISOString()
      });
      log("info", {
        event: "cdc.slot",
        source: this.config.CDC_SOURCE,
        slot: this.config.CDC_SLOT,
        lag_bytes: s.lagBytes,
        wal_status: s.walStatus,
        safe_wal_size: s.safeWalSize,
        lsn: this.metrics.durable_lsn
      });
      await this.snapshot?.checkNewTables();
      if (!s.exists) this.fail(new Error(`replication slot "${this.config.CDC_SLOT}" was dropped while streaming`));
      else if (s.walStatus === "lost") this.fail(new SlotInvalidated(this.config.CDC_SLOT, "wal_status is lost"));
    } catch (err) {
      if (!this.finished) log("warn", { event: "cdc.slot_check_failed", source: this.config.CDC_SOURCE, error: errorText(err) });
    }
  }
  every(ms, fn) {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }
};

// sidecar/src/startup/cdc-start-checks.ts
import path3 from "node:path";

// sidecar/src/startup/postgres-check.ts
import pg4 from "pg";
var SETTING_ERRORS = /* @__PURE__ */ new Set(["28P01", "28000", "3D000", "42501"]);
async function postgresProblems(c) {
  const db = await connectChecked(c.pg, c.waitMs);
  if ("message" in db) return [db];
  const problems = [];
  try {
    const { rows } = await db.query(
      `SELECT current_setting('wal_level') AS wal_level, r.rolname AS role, r.rolsuper AS superuser, r.rolreplication AS replication,
              EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'MEMBER')) AS rds_replication,
              has_database_privilege(current_database(), 'CREATE') AS can_create, current_database() AS database,
              current_setting('max_replication_slots')::int AS max_slots, (SELECT count(*)::int FROM pg_replication_slots) AS slots,
              EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS slot_exists,
              EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS publication_exists
         FROM pg_roles r WHERE r.rolname = current_user`,
      [c.slot, c.publication]
    );
    const s = rows[0];
    const role = quoteIdent(s.role);
    if (s.wal_level !== "logical") {
      problems.push({
        message: `Postgres runs with wal_level = ${s.wal_level}; logical replication needs wal_level = logical (ALTER SYSTEM SET wal_level = logical, then restart Postgres; on a managed database, its logical replication setting)`
      });
    }
    const mayReplicate = s.superuser || s.replication || s.rds_replication;
    if (!mayReplicate) {
      problems.push({
        message: `role ${s.role} (PGUSER) may not stream changes: it has neither the REPLICATION nor the SUPERUSER attribute. Run ALTER ROLE ${role} WITH REPLICATION (on Amazon RDS: GRANT rds_replication TO ${role})`
      });
    }
    if (!s.slot_exists && s.slots >= s.max_slots) {
      problems.push({
        message: `no free replication slot for CDC_SLOT ${c.slot}: all max_replication_slots = ${s.max_slots} are taken. Drop an unused slot (SELECT pg_drop_replication_slot('\u2026')) or raise max_replication_slots (restart needed)`
      });
    }
    if (s.publication_exists) {
      if (c.copies) problems.push(...await unreadable(db, s.role, c.publication));
    } else {
      problems.push(...await cannotCreatePublication(db, c, s));
    }
    if (mayReplicate && s.wal_level === "logical") {
      const refused = await replicationRefused(c.pg, s.role);
      if (refused) problems.push(refused);
    }
  } finally {
    await db.end().catch(() => {
    });
  }
  return problems;
}
async function connectChecked(config, waitMs) {
  const where = `Postgres at ${config.host}:${config.port} (database ${config.database}, role ${config.user})`;
  const until = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const db = new pg4.Client({ ...config, connectionTimeoutMillis: Math.max(1e3, Math.min(1e4, until - Date.now())) });
    db.on("error", () => {
    });
    try {
      await db.connect();
      return db;
    } catch (err) {
      await db.end().catch(() => {
      });
      const code = err.code ?? "";
      const text = err.message || code;
      if (SETTING_ERRORS.has(code)) {
        return {
          message: `${where} refused the connection: ${text}. Check PGUSER, PGPASSWORD and PGDATABASE (and pg_hba.conf for this host)`
        };
      }
      const wait = Math.max(250, backoffMs(attempt, 500, 4e3));
      if (Date.now() + wait >= until) {
        return {
          transient: true,
          message: `${where} could not be reached for ${Math.round(waitMs / 1e3)} s: ${text}. Check PGHOST and PGPORT, and that the server is up`
        };
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
async function unreadable(db, role, publication) {
  const { rows } = await db.query(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_publication_tables
      WHERE pubname = $1 AND NOT has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT') ORDER BY 1`,
    [publication]
  );
  if (rows.length === 0) return [];
  const names = rows.map((r) => r.name);
  const listed = names.slice(0, 20).join(", ") + (names.length > 20 ? ` and ${names.length - 20} more` : "");
  return [
    {
      message: `role ${role} cannot read ${listed} of publication ${publication} (CDC_PUBLICATION): the initial copy and backfills SELECT them. Run GRANT SELECT ON ${listed} TO ${quoteIdent(role)}, or set CDC_SNAPSHOT=false to stream changes only`
    }
  ];
}
async function cannotCreatePublication(db, c, s) {
  const pub = quoteIdent(c.publication);
  if (c.tables.length === 0) {
    if (s.superuser) return [];
    return [
      {
        message: `publication ${c.publication} (CDC_PUBLICATION) does not exist, and creating it FOR ALL TABLES needs a superuser, which role ${s.role} is not. Create it once as a superuser (CREATE PUBLICATION ${pub} FOR ALL TABLES), or name the tables in CDC_TABLES (the role must own them)`
      }
    ];
  }
  const problems = [];
  if (!s.superuser && !s.can_create) {
    problems.push({
      message: `publication ${c.publication} (CDC_PUBLICATION) does not exist, and role ${s.role} may not create it: run GRANT CREATE ON DATABASE ${quoteIdent(s.database)} TO ${quoteIdent(s.role)}, or create it as the tables' owner (CREATE PUBLICATION ${pub} FOR TABLE \u2026)`
    });
  }
  const { rows } = await db.query(
    `SELECT t.name, c.oid IS NOT NULL AS found, coalesce(pg_has_role(c.relowner, 'USAGE'), false) AS owns
       FROM unnest($1::text[]) AS t(name)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)`,
    [c.tables.map((t) => t.includes(".") ? t : `public.${t}`)]
  );
  const tables = rows;
  const missing = tables.filter((t) => !t.found).map((t) => t.name);
  if (missing.length > 0)
    problems.push({ message: `CDC_TABLES names ${missing.join(", ")}, which does not exist in database ${s.database}` });
  const foreign = tables.filter((t) => t.found && !t.owns).map((t) => t.name);
  if (foreign.length > 0 && !s.superuser) {
    problems.push({
      message: `role ${s.role} does not own ${foreign.join(", ")} (CDC_TABLES), and only a table's owner may add it to a publication: create the publication as the owner (CREATE PUBLICATION ${pub} FOR TABLE ${foreign.join(", ")}), then start the sidecar`
    });
  }
  return problems;
}
async function replicationRefused(config, role) {
  const repl = new ReplicationConnection(config);
  repl.client.on("error", () => {
  });
  try {
    await repl.connect();
    await repl.command("IDENTIFY_SYSTEM");
    return null;
  } catch (err) {
    return {
      message: `Postgres refused a replication connection for role ${role}: ${err.message}. The role needs REPLICATION, and pg_hba.conf must let it connect to this database`
    };
  } finally {
    await repl.close().catch(() => {
    });
  }
}

// sidecar/src/startup/worker-check.ts
import { randomUUID as randomUUID2 } from "node:crypto";
async function workerProblem(c) {
  const url2 = `${c.workerUrl.replace(/\/$/, "")}/ingest/cdc`;
  const body = Buffer.from(
    JSON.stringify({
      bundles: [
        {
          kind: "bundle",
          v: 1,
          source: c.source,
          stream: "_startup_check",
          pattern: "cdc",
          received_at: (/* @__PURE__ */ new Date()).toISOString(),
          records: []
        }
      ]
    })
  );
  const key = signingKey(c.secret);
  const until = Date.now() + c.waitMs;
  let last = "";
  for (let attempt = 0; ; attempt++) {
    const id = `startup-${randomUUID2()}`;
    const ts = Math.floor(Date.now() / 1e3);
    try {
      const res = await fetch(url2, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(ts),
          "webhook-signature": standardWebhookSignature(key, id, ts, body)
        },
        body,
        signal: AbortSignal.timeout(Math.max(1e3, Math.min(1e4, until - Date.now())))
      });
      const text = (await res.text()).slice(0, 500);
      if (res.ok) return null;
      if (!isRetryableStatus(res.status)) return refusal(res.status, text, c, url2);
      last = `it answered ${res.status} ${text}`;
    } catch (err) {
      const cause = err.cause;
      last = `${err.message}${cause ? ` (${cause.code ?? cause.message})` : ""}`;
    }
    const wait = Math.max(250, backoffMs(attempt, 500, 4e3));
    if (Date.now() + wait >= until) break;
    await new Promise((r) => setTimeout(r, wait));
  }
  return {
    transient: true,
    message: `the Worker at WORKER_URL (${c.workerUrl}) could not be reached for ${Math.round(c.waitMs / 1e3)} s: ${last}. Check WORKER_URL (the Worker's base URL, e.g. https://loading-dock.<account>.workers.dev) and that the Worker is deployed and reachable from here`
  };
}
function refusal(status, text, c, url2) {
  const said = errorOf(text);
  switch (status) {
    case 401:
      return {
        message: `the Worker refused this sidecar's signature (401): CDC_INGEST_SECRET is not the Worker's CDC_INGEST_SECRET. Set the same whsec_\u2026 value on both sides (npx wrangler secret put CDC_INGEST_SECRET, or .dev.vars locally)`
      };
    case 403:
      return {
        message: `the Worker refused source "${c.source}" (403: ${said}). Add "${c.source}" to the Worker's CDC_SOURCES (wrangler.toml [vars], or .dev.vars locally) and deploy, or set CDC_SOURCE to a declared source`
      };
    case 404:
      return {
        message: `${url2} answered 404: either WORKER_URL (${c.workerUrl}) is not the Loading Dock Worker's base URL, or the Worker has no CDC_INGEST_SECRET set (its sidecar door is closed until it has one)`
      };
    default:
      return {
        message: `the Worker refused the start-up check with ${status} (${said}): is WORKER_URL (${c.workerUrl}) a Loading Dock Worker of the same version as this sidecar?`
      };
  }
}
function errorOf(text) {
  try {
    const e = JSON.parse(text).error;
    if (typeof e === "string") return e;
  } catch {
  }
  return text || "no body";
}

// sidecar/src/startup/cdc-start-checks.ts
async function cdcStartProblems(config, env) {
  const problems = [];
  const dir = stateDirProblem(path3.dirname(config.CDC_STATE_FILE));
  if (dir) problems.push({ message: dir });
  const moved = env.CDC_STATE_FILE ? null : movedStateProblem(config.CDC_STATE_FILE, "cdc-state.json", "CDC_STATE_FILE");
  if (moved) problems.push({ message: moved });
  const [worker, postgres] = await Promise.all([
    workerProblem({
      workerUrl: config.WORKER_URL,
      secret: config.CDC_INGEST_SECRET,
      source: config.CDC_SOURCE,
      waitMs: config.CDC_STARTUP_WAIT_MS
    }),
    postgresProblems({
      pg: pgConfigOf(config),
      slot: config.CDC_SLOT,
      publication: config.CDC_PUBLICATION,
      tables: config.CDC_TABLES,
      copies: config.CDC_SNAPSHOT,
      waitMs: config.CDC_STARTUP_WAIT_MS
    })
  ]);
  if (worker) problems.push(worker);
  problems.push(...postgres);
  return problems;
}

// sidecar/src/startup/problem.ts
function startupExitCode(problems) {
  return problems.every((p) => p.transient) ? 1 : 2;
}

// sidecar/src/main.ts
function isPermanent(err) {
  return err instanceof SlotInvalidated || err instanceof DeliveryRejected || err instanceof ConfigError;
}
async function main() {
  let config;
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
    health: config.CDC_HEALTH_PORT > 0 ? `http://${config.CDC_HEALTH_HOST}:${config.CDC_HEALTH_PORT}/healthz` : "off"
  });
  let current = null;
  let lastMetrics = emptyMetrics(config.CDC_SLOT, config.CDC_SOURCE);
  let server = null;
  if (config.CDC_HEALTH_PORT > 0) {
    server = await startHealthServer(config.CDC_HEALTH_HOST, config.CDC_HEALTH_PORT, () => current?.metrics ?? lastMetrics);
  }
  let stopping = false;
  const onSignal = (signal) => {
    if (stopping) return;
    stopping = true;
    log("info", { event: "cdc.signal", source: config.CDC_SOURCE, signal });
    void current?.stop();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
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
      await sidecar.stop().catch(() => {
      });
      lastMetrics = { ...sidecar.metrics, state: "failed", error: errorText(err) };
      if (isPermanent(err)) {
        log("error", { event: "cdc.fatal", source: config.CDC_SOURCE, error: errorText(err) });
        server?.close();
        return 1;
      }
      const wait = Math.max(500, backoffMs(failures - 1, 1e3, 3e4));
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
  }
);
