// Built from sidecar/src/mongo-main.ts by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.

// sidecar/src/mongo-main.ts
import path2 from "node:path";
import { MongoClient } from "mongodb";
import * as z from "zod";

// sidecar/src/clock.ts
function newRunId(slot) {
  const stamp = (/* @__PURE__ */ new Date()).toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `${slot}-${stamp}-${Math.random().toString(16).slice(2, 8)}`;
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
function redact(text, knownSecrets2 = []) {
  let out = text;
  const secrets = [...knownSecrets2.filter((s) => s && s.length >= MIN_KNOWN_SECRET), ...envSecrets];
  for (const secret of secrets.sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
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

// sidecar/src/mongo/change-event-record.ts
import { BSON } from "mongodb";

// sidecar/src/cdc/dock-id.ts
import { hash } from "node:crypto";
function dockIdSync(source, stream, key, version) {
  return hash("sha256", `${source}
${stream}
${key}
${version}`, "hex").slice(0, 32);
}
var HEX2 = Buffer.from("0123456789abcdef", "latin1");

// sidecar/src/cdc/stream-name.ts
import { createHash } from "node:crypto";
var SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
function streamName(schema2, table, suffix = "") {
  const original = `${schema2}.${table}${suffix}`;
  if (SAFE.test(original) && !original.includes("..")) return original;
  const hash2 = createHash("sha256").update(original).digest("hex").slice(0, 8);
  let cleaned = original.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/\.{2,}/g, "_");
  if (!/^[A-Za-z0-9_]/.test(cleaned)) cleaned = `_${cleaned}`;
  return `${cleaned.slice(0, 118)}-${hash2}`;
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

// sidecar/src/mongo/change-event-record.ts
function ejson(value) {
  return BSON.EJSON.stringify(value, { relaxed: false });
}
function mongoKey(id) {
  if (id instanceof BSON.ObjectId) return id.toHexString();
  if (typeof id === "string") return id;
  return ejson(id);
}
var UnresumableEvent = class extends Error {
  name = "UnresumableEvent";
};
function changeEventRecord(source, runId, receivedAt, event) {
  const token = event._id._data ?? ejson(event._id);
  switch (event.operationType) {
    case "insert":
    case "update":
    case "replace":
    case "delete": {
      const stream = streamName(event.ns.db, event.ns.coll);
      const key = mongoKey(event.documentKey._id);
      const op = event.operationType === "insert" ? "insert" : event.operationType === "delete" ? "delete" : "update";
      const extra = {
        resume_token: token,
        cluster_time: `${event.clusterTime?.getHighBitsUnsigned() ?? 0}.${event.clusterTime?.getLowBitsUnsigned() ?? 0}`,
        operation_type: event.operationType
      };
      if (event.txnNumber !== void 0) extra.txn_number = event.txnNumber.toString();
      let json;
      if (event.operationType === "delete") json = ejson(event.documentKey);
      else if (event.fullDocument) json = ejson(event.fullDocument);
      else json = ejson(event.documentKey);
      if (event.operationType === "update") {
        extra.update_description = JSON.parse(ejson(event.updateDescription));
        if (!event.fullDocument) extra.full_document = "missing";
      }
      const id = dockIdSync(source, stream, key, token);
      const meta = {
        id,
        source,
        stream,
        pattern: "cdc",
        key,
        version: token,
        op,
        received_at: receivedAt,
        run_id: runId,
        extra
      };
      return { stream, id, line: envelopeLine(meta, { json }) };
    }
    case "invalidate":
    case "drop":
    case "dropDatabase":
    case "rename":
      throw new UnresumableEvent(
        `change stream event ${event.operationType}: the stream cannot resume past it; re-snapshot the collection`
      );
    default:
      return null;
  }
}

// sidecar/src/mongo/mongo-cdc.ts
var MongoCdc = class {
  constructor(stream, opts) {
    this.stream = stream;
    this.opts = opts;
  }
  stopped = false;
  delivered = 0;
  stop() {
    this.stopped = true;
  }
  async run() {
    let batch = [];
    let lastToken;
    let n = 0;
    const flush = async () => {
      if (lastToken === void 0) return;
      if (batch.length > 0) {
        const byStream = /* @__PURE__ */ new Map();
        for (const r of batch) byStream.set(r.stream, [...byStream.get(r.stream) ?? [], r]);
        const received = this.opts.now?.() ?? (/* @__PURE__ */ new Date()).toISOString();
        const texts = [...byStream].flatMap(
          ([stream, rs]) => packStream({ source: this.opts.source, stream, pattern: "cdc", received_at: received, run_id: this.opts.runId }, rs)
        );
        await this.opts.deliver(`${this.opts.runId}-${n++}`, deliveryBody(texts), batch.length);
        this.delivered += batch.length;
      }
      this.opts.saveToken(lastToken);
      batch = [];
      lastToken = void 0;
    };
    try {
      while (!this.stopped) {
        const event = await this.stream.tryNext();
        if (!event) {
          await flush();
          await new Promise((r) => setTimeout(r, this.opts.idleMs));
          continue;
        }
        const record = changeEventRecord(this.opts.source, this.opts.runId, this.opts.now?.() ?? (/* @__PURE__ */ new Date()).toISOString(), event);
        if (record) batch.push(record);
        lastToken = event._id;
        if (batch.length >= this.opts.maxRecords) await flush();
      }
      await flush();
    } finally {
      await this.stream.close();
    }
  }
};

// sidecar/src/mongo/token-file.ts
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { BSON as BSON2 } from "mongodb";
var TokenFile = class {
  constructor(file) {
    this.file = file;
  }
  read() {
    if (!existsSync(this.file)) return void 0;
    return BSON2.EJSON.parse(readFileSync(this.file, "utf8"), { relaxed: false });
  }
  write(token) {
    writeFileSync(`${this.file}.tmp`, BSON2.EJSON.stringify(token, { relaxed: false }));
    renameSync(`${this.file}.tmp`, this.file);
  }
};

// sidecar/src/startup/problem.ts
function startupExitCode(problems) {
  return problems.every((p) => p.transient) ? 1 : 2;
}

// sidecar/src/startup/state-dir.ts
import { accessSync, constants, existsSync as existsSync2, mkdirSync } from "node:fs";
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
  if (old === file || !existsSync2(old) || existsSync2(file)) return null;
  return `${old} holds state an earlier version kept in the working directory; state now lives in the state directory: move it to ${file} (or set ${setting}=${old})`;
}

// sidecar/src/startup/worker-check.ts
import { randomUUID } from "node:crypto";
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
    const id = `startup-${randomUUID()}`;
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

// sidecar/src/mongo-main.ts
var schema = z.object({
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URL"),
  MONGO_DB: z.string().optional(),
  MONGO_COLLECTION: z.string().optional(),
  /** Unset: `mongo-<CDC_SOURCE>-resume-token.json` in the state directory (DOCK_STATE_DIR). */
  MONGO_TOKEN_FILE: z.string().optional(),
  MONGO_BATCH_RECORDS: z.coerce.number().int().positive().default(1e3),
  MONGO_SERVER_SELECTION_MS: z.coerce.number().int().positive().default(3e4),
  WORKER_URL: z.url(),
  CDC_INGEST_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/),
  CDC_SOURCE: z.string().default("app_mongo"),
  DOCK_STATE_DIR: z.string().optional(),
  /** How long the start-up check waits for an unreachable Worker. */
  CDC_STARTUP_WAIT_MS: z.coerce.number().int().nonnegative().default(15e3)
});
async function main() {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    log("error", {
      event: "mongo.config_invalid",
      error: parsed.error.issues.map((i) => `${i.message} (setting ${i.path.join(".")})`).join("; ")
    });
    return 2;
  }
  const c = parsed.data;
  registerSecrets([c.CDC_INGEST_SECRET, c.MONGO_URL]);
  const tokenFile = path2.resolve(
    c.MONGO_TOKEN_FILE ?? path2.join(stateDirOf(process.env, c.DOCK_STATE_DIR), `mongo-${c.CDC_SOURCE}-resume-token.json`)
  );
  const problems = [];
  const dir = stateDirProblem(path2.dirname(tokenFile));
  if (dir) problems.push({ message: dir });
  const moved = c.MONGO_TOKEN_FILE ? null : movedStateProblem(tokenFile, "mongo-resume-token.json", "MONGO_TOKEN_FILE");
  if (moved) problems.push({ message: moved });
  const worker = await workerProblem({
    workerUrl: c.WORKER_URL,
    secret: c.CDC_INGEST_SECRET,
    source: c.CDC_SOURCE,
    waitMs: c.CDC_STARTUP_WAIT_MS
  });
  if (worker) problems.push(worker);
  for (const p of problems) log("error", { event: "mongo.start_refused", source: c.CDC_SOURCE, error: p.message });
  if (problems.length > 0) return startupExitCode(problems);
  const client = new MongoClient(c.MONGO_URL, { serverSelectionTimeoutMS: c.MONGO_SERVER_SELECTION_MS });
  const tokens = new TokenFile(tokenFile);
  const resumeAfter = tokens.read();
  const target = c.MONGO_DB ? c.MONGO_COLLECTION ? client.db(c.MONGO_DB).collection(c.MONGO_COLLECTION) : client.db(c.MONGO_DB) : client;
  const stream = target.watch([], { fullDocument: "updateLookup", ...resumeAfter ? { resumeAfter } : {} });
  const sender = new SignedSender({ url: `${c.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`, secret: c.CDC_INGEST_SECRET });
  const cdc = new MongoCdc(stream, {
    source: c.CDC_SOURCE,
    runId: newRunId("mongo"),
    maxRecords: c.MONGO_BATCH_RECORDS,
    idleMs: 200,
    deliver: (id, body) => sender.send(id, body),
    saveToken: (t) => tokens.write(t)
  });
  process.on("SIGTERM", () => cdc.stop());
  process.on("SIGINT", () => cdc.stop());
  try {
    await cdc.run();
    return 0;
  } catch (err) {
    log("error", { event: "mongo.failed", source: c.CDC_SOURCE, error: errorText(err) });
    return 1;
  } finally {
    await client.close().catch(() => {
    });
  }
}
main().then((code) => process.exit(code));
