// Built from sidecar/src/db-pull.ts by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.

// sidecar/src/db-pull.ts
import path4 from "node:path";
import { Command } from "commander";

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

// sidecar/src/pull/cursor-file.ts
import { existsSync as existsSync2, readFileSync as readFileSync2, renameSync, writeFileSync } from "node:fs";
import * as z2 from "zod";
var cursorsSchema = z2.record(z2.string(), z2.string());
var CursorFile = class {
  constructor(file) {
    this.file = file;
  }
  get(table) {
    if (!existsSync2(this.file)) return null;
    return cursorsSchema.parse(JSON.parse(readFileSync2(this.file, "utf8")))[table] ?? null;
  }
  set(table, cursor) {
    const all = existsSync2(this.file) ? cursorsSchema.parse(JSON.parse(readFileSync2(this.file, "utf8"))) : {};
    all[table] = cursor;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(all, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
  }
};

// sidecar/src/cdc/stream-name.ts
import { createHash } from "node:crypto";
var SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
function streamName(schema, table, suffix = "") {
  const original = `${schema}.${table}${suffix}`;
  if (SAFE.test(original) && !original.includes("..")) return original;
  const hash3 = createHash("sha256").update(original).digest("hex").slice(0, 8);
  let cleaned = original.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/\.{2,}/g, "_");
  if (!/^[A-Za-z0-9_]/.test(cleaned)) cleaned = `_${cleaned}`;
  return `${cleaned.slice(0, 118)}-${hash3}`;
}

// sidecar/src/pull/full-refresh.ts
import { availableParallelism } from "node:os";

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
function partHeads(head) {
  return (i) => ({ ...head, snapshot: { run_id: head.snapshot.run_id, part: head.snapshot.part + i } });
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

// sidecar/src/replication/sql-quote.ts
function quoteIdent(name2) {
  if (name2.includes("\0")) throw new Error("identifier contains a NUL byte");
  return `"${name2.replace(/"/g, '""')}"`;
}

// sidecar/src/pull/copy-out.ts
function copyOut(client, sql, onChunk) {
  const socket = client.connection.stream;
  return new Promise((resolve, reject) => {
    let pending = Promise.resolve();
    let failed = null;
    const query = {
      submit(connection) {
        connection.query(sql);
      },
      handleCopyData(msg) {
        const result = onChunk(msg.chunk);
        if (result && typeof result.then === "function") {
          socket.pause();
          pending = pending.then(() => result).then(
            () => socket.resume(),
            (err) => {
              failed ??= err;
              socket.resume();
            }
          );
        }
      },
      handleError(err) {
        failed ??= err;
      },
      handleReadyForQuery() {
        pending.then(() => failed ? reject(failed) : resolve(), reject);
      },
      handleCommandComplete() {
      },
      handleRowDescription() {
      },
      handleDataRow() {
      },
      handleEmptyQuery() {
      },
      handlePortalSuspended() {
      },
      handleCopyInResponse() {
      }
    };
    client.query(query);
  });
}

// sidecar/src/pull/parallel-copy-encoder.ts
import { readFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";

// sidecar/src/pull/thread-script.ts
import { createHash as createHash2, randomUUID } from "node:crypto";
import { mkdirSync as mkdirSync2, readFileSync as readFileSync3, renameSync as renameSync2, writeFileSync as writeFileSync2 } from "node:fs";
import path3 from "node:path";
import { fileURLToPath } from "node:url";
var THREAD_CACHE = fileURLToPath(new URL("../../../node_modules/.cache/loading-dock/", import.meta.url));
async function threadScript(entry, cacheDir = THREAD_CACHE) {
  const entryPath = fileURLToPath(entry);
  const file = path3.join(cacheDir, `${createHash2("sha256").update(entryPath).digest("hex").slice(0, 16)}.json`);
  const { build, version } = await import("esbuild");
  const cached = readCached(file);
  if (cached && digestOf(cached.inputs, version) === cached.digest) return cached.script;
  const read = /* @__PURE__ */ new Map();
  const out = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "silent",
    plugins: [
      {
        name: "read-once",
        setup(b) {
          b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
            const contents = readFileSync3(args.path);
            read.set(args.path, contents);
            return { contents, loader: /\.[cm]?ts$/.test(args.path) ? "ts" : "js" };
          });
        }
      }
    ]
  });
  const script = out.outputFiles[0]?.text;
  if (script === void 0) throw new Error(`esbuild made nothing of ${entryPath}`);
  const inputs = [...read.keys()].sort();
  const digest = digestOf(inputs, version, (p) => read.get(p));
  try {
    mkdirSync2(cacheDir, { recursive: true });
    const temp = `${file}.${randomUUID()}.tmp`;
    writeFileSync2(temp, JSON.stringify({ inputs, digest, script }));
    renameSync2(temp, file);
  } catch {
  }
  return script;
}
function readCached(file) {
  try {
    const c = JSON.parse(readFileSync3(file, "utf8"));
    return Array.isArray(c.inputs) && typeof c.digest === "string" && typeof c.script === "string" ? c : null;
  } catch {
    return null;
  }
}
function digestOf(inputs, version, contentOf = readFileSync3) {
  const h = createHash2("sha256").update(`esbuild ${version}\0`);
  for (const p of inputs) {
    h.update(p);
    h.update("\0");
    try {
      h.update(contentOf(p));
    } catch {
      h.update("gone");
    }
    h.update("\0");
  }
  return h.digest("hex");
}

// sidecar/src/pull/parallel-copy-encoder.ts
var NEWLINE = 10;
var THREAD = new URL("./copy-encode-thread.ts", import.meta.url);
var ParallelCopyEncoder = class _ParallelCopyEncoder {
  constructor(script, opts, threads, batchRows, maxPending, onBatch) {
    this.batchRows = batchRows;
    this.maxPending = maxPending;
    this.onBatch = onBatch;
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const w = new Worker(script, { eval: true, execArgv: [], workerData: opts });
      w.on("message", (r) => this.received(r));
      w.on("error", (err) => this.fail(err));
      return w;
    });
  }
  workers;
  input = new ByteWriter(4 * 1024 * 1024);
  inputRows = 0;
  nextSeq = 0;
  nextOut = 0;
  done = /* @__PURE__ */ new Map();
  spareInputs = [];
  spareOutputs = [];
  failure = null;
  waiters = [];
  pending = 0;
  /** The threads' code: `start` waits for it, so it can be begun early (it may need bundling). */
  static script() {
    if (true) return readFile(new URL("./copy-encode-thread.cjs", import.meta.url), "utf8");
    return threadScript(THREAD);
  }
  static async start(opts, threads, batchRows, maxPending, onBatch, script = _ParallelCopyEncoder.script()) {
    return new _ParallelCopyEncoder(await script, opts, threads, batchRows, maxPending, onBatch);
  }
  /** Copies a chunk of COPY output in; returns a promise when the caller should wait before the next. */
  push(chunk) {
    if (this.failure) return Promise.reject(this.failure);
    this.input.bytes(chunk);
    for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) this.inputRows++;
    if (this.inputRows >= this.batchRows) this.dispatch(false);
    if (this.pending >= this.maxPending) return this.waitBelow(this.maxPending);
  }
  /** Sends what is left (a last row may lack its newline) and waits until every batch went to `onBatch`. */
  async end() {
    this.dispatch(true);
    await this.waitBelow(1);
    if (this.failure) throw this.failure;
  }
  /** A batch was answered: its pending slot frees and its buffer goes back to the threads. */
  recycle(records) {
    this.spareOutputs.push(records.w.buf.buffer);
    this.pending--;
    this.wake();
  }
  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
  dispatch(all) {
    const used = this.input.pos;
    if (used === 0) return;
    const cut = all ? used : this.input.buf.lastIndexOf(NEWLINE, used - 1) + 1;
    if (cut === 0) return;
    const full = this.input;
    this.input = ByteWriter.over(this.spareInput(Math.max(full.buf.length, used - cut)), 0);
    this.input.range(full.buf, cut, used);
    this.inputRows = 0;
    const seq = this.nextSeq++;
    const output = this.spareOutputs.pop() ?? null;
    const request = { seq, input: full.buf.buffer, length: cut, output };
    this.pending++;
    this.workers[seq % this.workers.length].postMessage(request, output ? [request.input, output] : [request.input]);
  }
  spareInput(size) {
    const b = this.spareInputs.pop();
    return b && b.byteLength >= size ? Buffer.from(b) : Buffer.allocUnsafeSlow(size);
  }
  received(r) {
    this.spareInputs.push(r.input);
    if (r.error !== void 0) {
      this.fail(new Error(r.error));
      return;
    }
    this.done.set(r.seq, r);
    for (let next = this.done.get(this.nextOut); next; next = this.done.get(this.nextOut)) {
      this.done.delete(this.nextOut++);
      const records = StreamRecords.over(
        Buffer.from(next.output),
        next.pos,
        new Int32Array(next.ends)
      );
      if (records.count === 0) this.recycle(records);
      else this.onBatch(records, next.rows);
    }
  }
  fail(err) {
    this.failure ??= err;
    this.wake();
  }
  waitBelow(limit) {
    if (this.pending < limit || this.failure) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push(() => {
        if (this.failure) reject(this.failure);
        else if (this.pending < limit) resolve();
        else this.waitBelow(limit).then(resolve, reject);
      });
    });
  }
  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
};

// sidecar/src/pull/pull-target.ts
function qualified(t) {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}
function parseTableName(text) {
  const dot = text.indexOf(".");
  return dot < 0 ? { schema: "public", name: text } : { schema: text.slice(0, dot), name: text.slice(dot + 1) };
}
async function describeTable(db, table) {
  const res = await db.query(
    `SELECT (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name]
  );
  const row = res.rows[0];
  if (!row) throw new Error(`table ${table.schema}.${table.name} does not exist`);
  return { ...table, columns: row.columns, primaryKey: row.pk };
}
function keyText(values) {
  if (values.length === 1 && typeof values[0] === "string") return values[0];
  return JSON.stringify(values);
}
function rowJson(columns, values) {
  const parts = [];
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    parts.push(`${JSON.stringify(columns[i])}:${v === null || v === void 0 ? "null" : JSON.stringify(v)}`);
  }
  return `{${parts.join(",")}}`;
}

// sidecar/src/pull/full-refresh.ts
async function fullRefresh(db, opts) {
  const script = ParallelCopyEncoder.script();
  script.catch(() => {
  });
  await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const outstanding = /* @__PURE__ */ new Set();
  let encoder = null;
  let failed = null;
  try {
    const t = await describeTable(db, opts.table);
    const stream = streamName(t.schema, t.name);
    const ctidFirst = t.primaryKey.length === 0;
    const sql = `COPY (SELECT ${ctidFirst ? "ctid::text, " : ""}${t.columns.map(quoteIdent).join(", ")} FROM ${qualified(t)}) TO STDOUT`;
    let parts = 0;
    let total = 0;
    const threads = opts.threads ?? defaultThreads();
    const encoding = await ParallelCopyEncoder.start(
      {
        source: opts.source,
        stream,
        runId: opts.runId,
        columns: t.columns,
        keyIndexes: t.primaryKey.map((c) => t.columns.indexOf(c)),
        ctidFirst
      },
      threads,
      opts.batchRecords,
      threads + (opts.inFlight ?? 2),
      (records, rows) => {
        const head = {
          source: opts.source,
          stream,
          pattern: "full_refresh",
          received_at: (/* @__PURE__ */ new Date()).toISOString(),
          run_id: opts.runId,
          snapshot: { run_id: opts.runId, part: parts }
        };
        const groups = records.groups(partHeads(head));
        const first = parts;
        parts += groups.length;
        total += rows;
        const p = opts.deliver(`${opts.runId}-part-${first}`, deliveryBody(groups), rows).catch((err) => {
          failed ??= err;
        }).finally(() => {
          outstanding.delete(p);
          encoding.recycle(records);
        });
        outstanding.add(p);
      },
      script
    );
    encoder = encoding;
    await copyOut(db, sql, (chunk) => {
      if (failed) return;
      return encoding.push(chunk);
    });
    await encoding.end();
    if (failed) throw failed;
    await db.query("COMMIT");
    const manifest = {
      kind: "manifest",
      v: 1,
      source: opts.source,
      stream,
      run_id: opts.runId,
      parts,
      records: total,
      received_at: (/* @__PURE__ */ new Date()).toISOString()
    };
    await opts.deliver(`${opts.runId}-manifest`, JSON.stringify({ bundles: [], manifests: [manifest] }), 0);
    return { parts, records: total };
  } catch (err) {
    await Promise.allSettled(outstanding);
    await db.query("ROLLBACK").catch(() => {
    });
    throw err;
  } finally {
    await encoder?.close();
  }
}
function defaultThreads() {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

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

// sidecar/src/lsn.ts
function formatLsn(lsn) {
  const n = Number(lsn);
  if (Number.isSafeInteger(n))
    return `${Math.floor(n / 4294967296).toString(16).toUpperCase()}/${(n % 4294967296).toString(16).toUpperCase()}`;
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
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

// sidecar/src/pull/row-version.ts
import { hash as hash2 } from "node:crypto";
function rowVersion(cursorText, dataJson) {
  return `${cursorText}|${hash2("sha256", dataJson, "hex").slice(0, 16)}`;
}

// sidecar/src/pull/table-poller.ts
var asText = { getTypeParser: () => (value) => value };
async function pollTable(db, opts, savedCursor) {
  await db.query("SET TimeZone = 'UTC'");
  const t = await describeTable(db, opts.table);
  if (t.primaryKey.length === 0) throw new Error(`${t.schema}.${t.name} has no primary key: polling needs one to page by`);
  if (!t.columns.includes(opts.cursorColumn)) throw new Error(`${t.schema}.${t.name} has no column ${opts.cursorColumn}`);
  const stream = streamName(t.schema, t.name);
  const builder = new ChangeRecordBuilder(opts.source, opts.runId, cachedIsoClock(), "poll");
  const cols = t.columns.map(quoteIdent).join(", ");
  const cur = quoteIdent(opts.cursorColumn);
  const pk = t.primaryKey.map(quoteIdent);
  const pkIdx = t.primaryKey.map((c) => t.columns.indexOf(c));
  const curIdx = t.columns.length;
  let after = null;
  let cursor = savedCursor;
  let records = 0;
  let pages = 0;
  for (; ; ) {
    const params = [];
    let where = "";
    if (after) {
      params.push(...after);
      where = `WHERE (${[cur, ...pk].join(", ")}) > (${after.map((_, i) => `$${i + 1}`).join(", ")})`;
    } else if (savedCursor !== null) {
      params.push(savedCursor, opts.overlapSeconds);
      where = `WHERE ${cur} >= $1::timestamptz - make_interval(secs => $2)`;
    }
    const res = await db.query({
      text: `SELECT ${cols}, ${cur}::text AS __dock_cursor FROM ${qualified(t)} ${where} ORDER BY ${[cur, ...pk].join(", ")} LIMIT ${Math.floor(opts.pageRows)}`,
      values: params,
      rowMode: "array",
      types: asText
    });
    const rows = res.rows;
    if (rows.length === 0) break;
    const out = rows.map((row) => {
      const values = row.slice(0, curIdx);
      const json = rowJson(t.columns, values);
      const version = rowVersion(row[curIdx] ?? "", json);
      return builder.record(stream, keyText(pkIdx.map((i) => values[i] ?? null)), version, "upsert", {}, json);
    });
    const head = { source: opts.source, stream, pattern: "poll", received_at: (/* @__PURE__ */ new Date()).toISOString(), run_id: opts.runId };
    await opts.deliver(`${opts.runId}-${pages}`, deliveryBody(packStream(head, out)), out.length);
    const last = rows[rows.length - 1];
    after = [last[curIdx] ?? null, ...pkIdx.map((i) => last[i] ?? null)];
    const lastCursor = last[curIdx];
    if (lastCursor && (cursor === null || await isLater(db, lastCursor, cursor))) {
      cursor = lastCursor;
      opts.saveCursor(cursor);
    }
    records += rows.length;
    pages++;
    if (rows.length < opts.pageRows) break;
  }
  return { cursor, records, pages };
}
async function isLater(db, a, b) {
  const res = await db.query("SELECT $1::timestamptz > $2::timestamptz AS later", [a, b]);
  return res.rows[0].later;
}

// sidecar/src/sidecar.ts
import pg3 from "pg";

// sidecar/src/delivery/line-fragment.ts
function lineFragment(json) {
  return Buffer.from(JSON.stringify(json).slice(1, -1), "utf8");
}

// sidecar/src/cdc/change-encoder.ts
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

// sidecar/src/replication/replication-connection.ts
import pg from "pg";

// sidecar/src/snapshot/initial-snapshot.ts
import pg2 from "pg";

// sidecar/src/snapshot/state-file.ts
import * as z3 from "zod";
var tableState = z3.object({
  /** Key values (text, in `by` order) of the last row delivered; null before the first chunk. */
  after: z3.array(z3.string()).nullable(),
  /** The columns `after` is in: the copy's paging key (absent in older files: the primary key). */
  by: z3.array(z3.string()).optional(),
  rows: z3.number().int().nonnegative(),
  done: z3.boolean()
});
var snapshotStateSchema = z3.object({
  v: z3.literal(1),
  slot: z3.string(),
  /** `creating`: the slot was being created (a crash here means a full re-copy); `copying`; `done`. */
  phase: z3.enum(["creating", "copying", "done"]),
  /** The LSN the copied rows are consistent with: their `lsn`, and their version as `snapshot:<lsn>`. */
  lsn: z3.string().nullable(),
  tables: z3.record(z3.string(), tableState)
});

// sidecar/src/sidecar.ts
var QUEUE_PAUSE_BYTES = 4 * 1024 * 1024;
function pgConfigOf(config) {
  return { host: config.PGHOST, port: config.PGPORT, user: config.PGUSER, password: config.PGPASSWORD, database: config.PGDATABASE };
}

// sidecar/src/startup/postgres-check.ts
import pg4 from "pg";
var SETTING_ERRORS = /* @__PURE__ */ new Set(["28P01", "28000", "3D000", "42501"]);
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

// sidecar/src/startup/problem.ts
function startupExitCode(problems) {
  return problems.every((p) => p.transient) ? 1 : 2;
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

// sidecar/src/db-pull.ts
var program = new Command("db-pull").description("poll or fully refresh Postgres tables into Loading Dock");
var StartRefused = class extends Error {
  constructor(problems) {
    super(problems.map((p) => p.message).join("; "));
    this.problems = problems;
  }
};
async function setup(stateFile) {
  const config = loadConfig();
  registerSecrets([config.CDC_INGEST_SECRET, config.PGPASSWORD ?? ""]);
  const problems = [];
  let file = "";
  if (stateFile) {
    file = path4.resolve(stateFile.explicit ?? path4.join(config.DOCK_STATE_DIR, stateFile.name(config)));
    const dir = stateDirProblem(path4.dirname(file));
    if (dir) problems.push({ message: dir });
    const moved = stateFile.explicit ? null : movedStateProblem(file, stateFile.legacy, stateFile.setting);
    if (moved) problems.push({ message: moved });
  }
  const check = {
    workerUrl: config.WORKER_URL,
    secret: config.CDC_INGEST_SECRET,
    source: config.CDC_SOURCE,
    waitMs: config.CDC_STARTUP_WAIT_MS
  };
  const [worker, db] = await Promise.all([workerProblem(check), connectChecked(pgConfigOf(config), config.CDC_STARTUP_WAIT_MS)]);
  if (worker) problems.push(worker);
  if ("message" in db) problems.push(db);
  else if (problems.length > 0) await db.end();
  if (problems.length > 0 || "message" in db) throw new StartRefused(problems);
  const sender = new SignedSender({
    url: `${config.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`,
    secret: config.CDC_INGEST_SECRET,
    onRetry: (r) => log("warn", { event: "pull.delivery_retry", attempt: r.attempt, ms: r.waitMs, status: r.status, error: r.error })
  });
  return { config, sender, db, file };
}
program.command("poll").requiredOption("--table <schema.table>").option("--cursor-column <column>", "timestamp column that every write updates", "updated_at").option("--overlap-seconds <n>", "re-read this far behind the cursor", "300").option("--page-rows <n>", "rows per page (one delivery)", "5000").option("--cursor-file <path>", "where cursors are kept (default: poll-cursors-<CDC_SOURCE>.json in the state directory)").action(async (o) => {
  const { config, sender, db, file } = await setup({
    explicit: o.cursorFile,
    name: (c) => `poll-cursors-${c.CDC_SOURCE}.json`,
    legacy: "poll-cursors.json",
    setting: "--cursor-file"
  });
  const table = parseTableName(o.table);
  const cursors = new CursorFile(file);
  const runId = newRunId("poll");
  const started = Date.now();
  try {
    const out = await pollTable(
      db,
      {
        source: config.CDC_SOURCE,
        table,
        cursorColumn: o.cursorColumn,
        overlapSeconds: Number(o.overlapSeconds),
        pageRows: Number(o.pageRows),
        runId,
        deliver: (id, body) => sender.send(id, body),
        saveCursor: (c) => cursors.set(o.table, c)
      },
      cursors.get(o.table)
    );
    log("info", {
      event: "pull.polled",
      source: config.CDC_SOURCE,
      stream: o.table,
      pattern: "poll",
      run_id: runId,
      records: out.records,
      ms: Date.now() - started,
      cursor: out.cursor
    });
  } finally {
    await db.end();
  }
});
program.command("refresh").requiredOption("--table <schema.table>").option("--batch-records <n>", "records per delivery", "5000").action(async (o) => {
  const { config, sender, db } = await setup();
  const runId = newRunId("refresh");
  const started = Date.now();
  try {
    const out = await fullRefresh(db, {
      source: config.CDC_SOURCE,
      table: parseTableName(o.table),
      runId,
      batchRecords: Number(o.batchRecords),
      deliver: (id, body) => sender.send(id, body)
    });
    log("info", {
      event: "pull.refreshed",
      source: config.CDC_SOURCE,
      stream: o.table,
      pattern: "full_refresh",
      run_id: runId,
      records: out.records,
      parts: out.parts,
      ms: Date.now() - started
    });
  } finally {
    await db.end();
  }
});
program.parseAsync().catch((err) => {
  if (err instanceof StartRefused) {
    for (const p of err.problems) log("error", { event: "pull.start_refused", error: p.message });
    process.exit(startupExitCode(err.problems));
  }
  if (err instanceof ConfigError) {
    log("error", { event: "pull.config_invalid", error: errorText(err) });
    process.exit(2);
  }
  log("error", { event: "pull.failed", error: errorText(err) });
  process.exit(1);
});
