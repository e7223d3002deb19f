// Built from sidecar/sftp/main.ts by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.

// sidecar/sftp/main.ts
import { readFileSync as readFileSync2 } from "node:fs";
import path2 from "node:path";

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

// sidecar/sftp/host-key.ts
import { createHash, timingSafeEqual } from "node:crypto";

// sidecar/sftp/retry.ts
var DEFAULT_RETRY = { attempts: 6, baseMs: 500, capMs: 3e4 };
function jitterMs(attempt, policy, random = Math.random) {
  return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30)));
}
var PermanentError = class extends Error {
};
async function withRetry(what, policy, work, onRetry = () => {
}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (err instanceof PermanentError || attempt + 1 >= policy.attempts) throw err;
      const wait = jitterMs(attempt, policy);
      onRetry(attempt, err, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  throw new Error(`${what}: unreachable`);
}

// sidecar/sftp/host-key.ts
var HostKeyMismatch = class extends PermanentError {
};
function fingerprint(blob) {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
function hostKeyVerifier(pin) {
  const value = (pin ?? "").trim();
  if (!value) throw new HostKeyMismatch("no pinned host key (SFTP_HOST_KEY): refusing to connect to an unknown host");
  const expected = value.startsWith("SHA256:") ? value : fingerprint(keyLineBlob(value));
  return {
    pinned: expected,
    verify: (blob) => {
      const got = Buffer.from(fingerprint(blob));
      const want = Buffer.from(expected);
      return got.length === want.length && timingSafeEqual(got, want);
    }
  };
}
function keyLineBlob(line) {
  const parts = line.split(/\s+/);
  const base64 = parts.find((p) => /^AAAA[A-Za-z0-9+/]+={0,2}$/.test(p));
  if (!base64) throw new HostKeyMismatch("SFTP_HOST_KEY is neither a SHA256: fingerprint nor a public key line");
  return Buffer.from(base64, "base64");
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
var wordsOf = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/);
var isCredentialName = (name) => CREDENTIAL_NAME.test(name) && !wordsOf(name).some((w) => NOT_A_CREDENTIAL.has(w));
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
function redact(text, knownSecrets = []) {
  let out = text;
  const secrets2 = [...knownSecrets.filter((s) => s && s.length >= MIN_KNOWN_SECRET), ...envSecrets];
  for (const secret of secrets2.sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  out = out.replace(PREFIXED_SECRETS, REDACTED);
  out = out.replace(
    HEADER_VALUE,
    (m, name, sep, scheme, value) => looksLikeCredential(value) ? `${name}${sep}${scheme ?? ""}${REDACTED}` : m
  );
  out = out.replace(
    SCHEME_VALUE,
    (m, bearer, token, basic, pair) => looksLikeCredential(token ?? pair) ? `${bearer ?? basic}${REDACTED}` : m
  );
  out = out.replace(
    PARAM_VALUE,
    (m, lead, name, value) => value && value !== REDACTED && (isCredentialName(name) || CREDENTIAL_PARAM.test(name)) ? `${lead}${name}=${REDACTED}` : m
  );
  out = out.replace(
    JSON_VALUE,
    (m, name, sep, value) => value && value !== REDACTED && isCredentialName(name) ? `"${name}"${sep}"${REDACTED}"` : m
  );
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return out;
}
function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

// sidecar/sftp/log.ts
var secrets = [];
function registerSecrets(list) {
  secrets = list.filter(Boolean);
}
function log(level, fields) {
  const out = { ...fields };
  if (typeof out.error === "string") out.error = redact(out.error, secrets);
  logSidecar(level, { pattern: "file", ...out });
}

// sidecar/sftp/poller.ts
import { randomUUID } from "node:crypto";
import { mkdirSync as mkdirSync3, readdirSync, rmSync } from "node:fs";
import { rm as rm2 } from "node:fs/promises";
import { join } from "node:path";

// sidecar/sftp/deliver.ts
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
async function putDrop(target, name, localPath, size, sha256) {
  const url = `${target.baseUrl.replace(/\/$/, "")}/files/${encodeURIComponent(target.source)}/${encodeURIComponent(name)}`;
  const res = await fetch(url, {
    method: "PUT",
    headers: { authorization: `Bearer ${target.token}`, "content-length": String(size), "content-type": "application/octet-stream" },
    body: Readable.toWeb(createReadStream(localPath)),
    duplex: "half"
  });
  const text = await res.text();
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    throw new Error(`drop route answered ${res.status}: ${text.slice(0, 200)}`);
  if (res.status === 401 || res.status === 403 || res.status === 404)
    throw new Error(`drop route answered ${res.status}: check DOCK_URL, SFTP_SOURCE and SFTP_FILES_TOKEN (${text.slice(0, 200)})`);
  if (!res.ok) throw new PermanentError(`drop route refused ${name} with ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text);
  if (body.sha256 !== sha256) throw new Error(`the Worker hashed ${name} as ${body.sha256}, we sent ${sha256}`);
  return body;
}

// sidecar/sftp/ledger.ts
import { appendFileSync, closeSync, existsSync as existsSync2, fsyncSync, mkdirSync as mkdirSync2, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
var versionKey = (path3, size, mtime) => `${path3}
${size}
${mtime}`;
var SftpLedger = class {
  constructor(file) {
    this.file = file;
    mkdirSync2(dirname(file), { recursive: true });
    if (!existsSync2(file)) return;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line);
        const key = versionKey(entry.path, entry.size, entry.mtime);
        this.seen.set(key, entry);
        if (entry.status === "refused") this.retryRefused.add(key);
        else this.retryRefused.delete(key);
      } catch {
      }
    }
  }
  seen = /* @__PURE__ */ new Map();
  /** Refused versions read back at start: not yet offered again by this process. */
  retryRefused = /* @__PURE__ */ new Set();
  has(path3, size, mtime) {
    const key = versionKey(path3, size, mtime);
    return this.seen.has(key) && !this.retryRefused.has(key);
  }
  entries() {
    return [...this.seen.values()];
  }
  record(entry) {
    const fd = openSync(this.file, "a");
    try {
      appendFileSync(fd, `${JSON.stringify(entry)}
`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const key = versionKey(entry.path, entry.size, entry.mtime);
    this.seen.set(key, entry);
    this.retryRefused.delete(key);
  }
};

// sidecar/sftp/sftp-session.ts
import { createHash as createHash2 } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { Client } from "ssh2";
var SftpSession = class _SftpSession {
  constructor(client, sftp) {
    this.client = client;
    this.sftp = sftp;
    client.on("close", () => {
      this.closed = true;
    });
    client.on("error", () => {
      this.closed = true;
    });
  }
  /** Set once the connection is gone: the poller opens a new session instead of reusing this one. */
  closed = false;
  static async open(target) {
    const { verify, pinned } = hostKeyVerifier(target.hostKey);
    let offered = null;
    const client = new Client();
    const config = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      ...target.passphrase ? { passphrase: target.passphrase } : {},
      readyTimeout: target.readyTimeoutMs ?? 15e3,
      hostVerifier: (key) => {
        offered = key;
        return verify(key);
      }
    };
    const ready = new Promise((resolve, reject) => {
      client.once("ready", resolve);
      client.once("error", reject);
      client.once("close", () => reject(new Error("connection closed before it was ready")));
    });
    client.connect(config);
    try {
      await ready;
    } catch (err) {
      client.end();
      if (offered && !verify(offered)) {
        throw new HostKeyMismatch(`host key mismatch for ${target.host}:${target.port}: offered ${fingerprint(offered)}, pinned ${pinned}`);
      }
      throw err;
    }
    const sftp = await new Promise((resolve, reject) => client.sftp((err, s) => err ? reject(err) : resolve(s)));
    return new _SftpSession(client, sftp);
  }
  async list(dir) {
    const entries = await new Promise(
      (resolve, reject) => this.sftp.readdir(dir, (err, list) => err ? reject(err) : resolve(list))
    );
    return entries.filter((e) => e.attrs.isFile()).map((e) => ({ path: `${dir.replace(/\/$/, "")}/${e.filename}`, name: e.filename, size: e.attrs.size, mtime: e.attrs.mtime }));
  }
  /**
   * Downloads to `localPath` while hashing. Anything short of exactly `expectedSize` bytes (a
   * dropped connection, a file still changing) removes the partial copy and throws.
   */
  async download(remotePath, localPath, expectedSize) {
    const hash = createHash2("sha256");
    let size = 0;
    const counter = new Transform({
      transform(chunk, _enc, done) {
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      }
    });
    const source = this.sftp.createReadStream(remotePath);
    const sink2 = createWriteStream(localPath);
    let onClose = () => {
    };
    const dropped = new Promise((_, reject) => {
      onClose = () => reject(new Error("connection closed during download"));
      this.client.once("close", onClose);
    });
    dropped.catch(() => void 0);
    try {
      await Promise.race([pipeline(source, counter, sink2), dropped]);
      if (size !== expectedSize) throw new Error(`downloaded ${size} bytes of ${remotePath}, expected ${expectedSize}`);
      return { sha256: hash.digest("hex"), size };
    } catch (err) {
      source.destroy();
      sink2.destroy();
      await rm(localPath, { force: true });
      throw err;
    } finally {
      this.client.removeListener("close", onClose);
    }
  }
  async rename(from, to) {
    await new Promise((resolve, reject) => this.sftp.rename(from, to, (err) => err ? reject(err) : resolve()));
  }
  async mkdir(dir) {
    await new Promise((resolve) => this.sftp.mkdir(dir, () => resolve()));
  }
  close() {
    this.client.end();
  }
};

// sidecar/sftp/poller.ts
var DOWNLOAD_SUFFIX = ".download";
function isInProgressName(name) {
  return name.startsWith(".") || /\.(part|partial|tmp|filepart|crdownload)$/i.test(name);
}
var SftpPoller = class {
  constructor(config) {
    this.config = config;
    this.ledger = new SftpLedger(config.ledgerPath);
    this.retry = config.retry ?? DEFAULT_RETRY;
    mkdirSync3(config.stagingDir, { recursive: true });
    this.removePartialDownloads();
  }
  ledger;
  observed = /* @__PURE__ */ new Map();
  session = null;
  retry;
  /**
   * A poller killed mid-download (SIGKILL, power loss) leaves its `.download` file behind; nothing
   * else would ever remove it. The staging directory is this poller's alone, so at start every
   * `.download` in it is a leftover. Other files are left alone.
   */
  removePartialDownloads() {
    for (const name of readdirSync(this.config.stagingDir)) {
      if (!name.endsWith(DOWNLOAD_SUFFIX)) continue;
      rmSync(join(this.config.stagingDir, name), { force: true });
      log("warn", { event: "sftp.partial_removed", source: this.config.drop.source, path: name });
    }
  }
  ledgerEntries() {
    return this.ledger.entries();
  }
  async pollOnce() {
    const report = { listed: 0, waiting: [], landed: [], refused: [], failed: [] };
    try {
      const files = await withRetry(
        "list",
        this.retry,
        async () => (await this.connected()).list(this.config.remoteDir),
        this.onRetry("list")
      );
      report.listed = files.length;
      const stable = [];
      const present = /* @__PURE__ */ new Set();
      for (const f of files) {
        if (isInProgressName(f.name) || this.ledger.has(f.path, f.size, f.mtime)) continue;
        present.add(f.path);
        const before = this.observed.get(f.path);
        if (before && before.size === f.size && before.mtime === f.mtime) stable.push(f);
        else report.waiting.push(f.path);
        this.observed.set(f.path, { size: f.size, mtime: f.mtime });
      }
      for (const path3 of this.observed.keys()) if (!present.has(path3)) this.observed.delete(path3);
      for (const file of stable) await this.land(file, report);
    } finally {
      this.close();
    }
    return report;
  }
  close() {
    this.session?.close();
    this.session = null;
  }
  async connected() {
    if (!this.session || this.session.closed) {
      this.session?.close();
      this.session = await SftpSession.open(this.config.target);
    }
    return this.session;
  }
  onRetry(what) {
    return (attempt, err, waitMs) => {
      if (this.session?.closed) this.session = null;
      log("warn", { event: `sftp.${what}_retry`, source: this.config.drop.source, error: errorText(err), attempt, wait_ms: waitMs });
    };
  }
  async land(file, report) {
    const local = join(this.config.stagingDir, `${randomUUID()}${DOWNLOAD_SUFFIX}`);
    const source = this.config.drop.source;
    try {
      const { sha256 } = await withRetry(
        "download",
        this.retry,
        async () => (await this.connected()).download(file.path, local, file.size),
        this.onRetry("download")
      );
      const answer = await withRetry(
        "drop",
        this.retry,
        () => putDrop(this.config.drop, file.name, local, file.size, sha256),
        this.onRetry("drop")
      );
      this.ledger.record({
        path: file.path,
        size: file.size,
        mtime: file.mtime,
        sha256,
        landed_key: answer.key,
        status: answer.status,
        at: (/* @__PURE__ */ new Date()).toISOString()
      });
      report.landed.push({ path: file.path, key: answer.key, status: answer.status });
      log("info", { event: `sftp.${answer.status}`, source, path: file.path, key: answer.key, bytes: file.size });
      if (this.config.archiveDir) await this.archive(file);
    } catch (err) {
      const error = errorText(err);
      if (err instanceof PermanentError) {
        this.ledger.record({
          path: file.path,
          size: file.size,
          mtime: file.mtime,
          sha256: "",
          landed_key: null,
          status: "refused",
          at: (/* @__PURE__ */ new Date()).toISOString(),
          error
        });
        report.refused.push({ path: file.path, error });
        log("error", { event: "sftp.refused", source, path: file.path, error });
      } else {
        this.observed.delete(file.path);
        report.failed.push({ path: file.path, error });
        log("error", { event: "sftp.failed", source, path: file.path, error });
      }
    } finally {
      await rm2(local, { force: true });
    }
  }
  async archive(file) {
    const dir = this.config.archiveDir;
    try {
      const session = await this.connected();
      await session.mkdir(dir);
      await session.rename(file.path, `${dir.replace(/\/$/, "")}/${file.name}`);
    } catch (err) {
      log("warn", { event: "sftp.archive_failed", source: this.config.drop.source, path: file.path, error: errorText(err) });
    }
  }
};

// sidecar/sftp/main.ts
function configFromEnv(env) {
  const need = (name) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const token = need("SFTP_FILES_TOKEN");
  const source = need("SFTP_SOURCE");
  const passphrase = env.SFTP_PRIVATE_KEY_PASSPHRASE;
  registerSecrets([token, passphrase ?? ""]);
  return {
    target: {
      host: need("SFTP_HOST"),
      port: Number(env.SFTP_PORT ?? 22),
      username: need("SFTP_USERNAME"),
      privateKey: readFileSync2(need("SFTP_PRIVATE_KEY_PATH")),
      hostKey: need("SFTP_HOST_KEY"),
      ...passphrase ? { passphrase } : {}
    },
    remoteDir: need("SFTP_REMOTE_DIR"),
    ...env.SFTP_ARCHIVE_DIR ? { archiveDir: env.SFTP_ARCHIVE_DIR } : {},
    drop: { baseUrl: need("DOCK_URL"), source, token },
    // Unset: under sftp-<source>/ in the state directory (DOCK_STATE_DIR; see sidecar/README.md).
    ledgerPath: path2.resolve(env.SFTP_LEDGER_PATH ?? path2.join(stateDirOf(env), `sftp-${source}`, "ledger.jsonl")),
    stagingDir: path2.resolve(env.SFTP_STAGING_DIR ?? path2.join(stateDirOf(env), `sftp-${source}`, "staging")),
    pollSeconds: Number(env.SFTP_POLL_SECONDS ?? 300)
  };
}
async function main() {
  let config;
  try {
    config = configFromEnv(process.env);
  } catch (err) {
    log("error", { event: "sftp.config_invalid", error: errorText(err) });
    process.exit(2);
  }
  const problems = [
    stateDirProblem(path2.dirname(config.ledgerPath)),
    stateDirProblem(config.stagingDir),
    process.env.SFTP_LEDGER_PATH ? null : movedStateProblem(config.ledgerPath, "data/sftp-ledger.jsonl", "SFTP_LEDGER_PATH")
  ].filter((p) => p !== null);
  for (const error of problems) log("error", { event: "sftp.start_refused", source: config.drop.source, error });
  if (problems.length > 0) process.exit(2);
  const poller = new SftpPoller(config);
  for (; ; ) {
    try {
      const report = await poller.pollOnce();
      log("info", { event: "sftp.polled", source: config.drop.source, records: report.landed.length, waiting: report.waiting.length });
    } catch (err) {
      log("error", { event: "sftp.poll_failed", source: config.drop.source, error: errorText(err) });
      if (err instanceof HostKeyMismatch) process.exit(2);
    }
    await new Promise((r) => setTimeout(r, config.pollSeconds * 1e3));
  }
}
if (import.meta.url === `file://${process.argv[1]}`) void main();
export {
  configFromEnv
};
