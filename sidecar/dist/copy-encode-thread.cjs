// Built from sidecar/src/pull/copy-encode-thread.ts by sidecar/build.mjs (npm run build:sidecar). Do not edit: edit the source and rebuild.
"use strict";

// sidecar/src/pull/copy-encode-thread.ts
var import_node_worker_threads = require("node:worker_threads");

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

// sidecar/src/delivery/byte-writer.ts
var import_node_buffer = require("node:buffer");
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
    if (wide && !(0, import_node_buffer.isUtf8)(src.subarray(a, b))) {
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
  for (let i = a; i < b; i++) if (src[i] >= 128) return (0, import_node_buffer.isUtf8)(src.subarray(a, b));
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

// sidecar/src/cdc/dock-id.ts
var import_node_crypto = require("node:crypto");
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
    const digest = (0, import_node_crypto.hash)("sha256", view, "binary");
    for (let k = 0; k < 16; k++) {
      const c = digest.charCodeAt(k);
      out[p++] = HEX2[c >> 4];
      out[p++] = HEX2[c & 15];
    }
    return p;
  }
};

// sidecar/src/delivery/line-fragment.ts
function lineFragment(json) {
  return Buffer.from(JSON.stringify(json).slice(1, -1), "utf8");
}
var J = (s) => JSON.stringify(s);

// sidecar/src/pull/copy-text.ts
var ESCAPES = { b: "\b", f: "\f", n: "\n", r: "\r", t: "	", v: "\v", "\\": "\\" };
function copyFieldText(field) {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  let out = "";
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = field[++i] ?? "";
    if (n in ESCAPES) out += ESCAPES[n];
    else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(field.slice(i))?.[0] ?? n;
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n === "x") {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1))?.[0] ?? "";
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += hex.length;
    } else out += n;
  }
  return out;
}

// sidecar/src/pull/copy-row-encoder.ts
var TAB = 9;
var NEWLINE = 10;
var BACKSLASH2 = 92;
var PLAIN = 0;
var FIELD_END = 1;
var COPY_ESCAPE = 2;
var JSON_ESCAPE = 3;
var WIDE = 4;
var CLASS = new Uint8Array(256);
for (let c = 0; c < 32; c++) CLASS[c] = JSON_ESCAPE;
CLASS[TAB] = FIELD_END;
CLASS[34] = JSON_ESCAPE;
CLASS[BACKSLASH2] = COPY_ESCAPE;
for (let c = 128; c < 256; c++) CLASS[c] = WIDE;
var COPY_ESCAPED = new Int16Array(256).fill(-1);
for (const [letter, byte] of [
  ["b", 8],
  ["f", 12],
  ["n", 10],
  ["r", 13],
  ["t", 9],
  ["v", 11],
  ["\\", 92]
])
  COPY_ESCAPED[letter.charCodeAt(0)] = byte;
var NULL_FIELD = 78;
var REC_ID = Buffer.from('{"id":"');
var REC_LINE = Buffer.concat([Buffer.from('","line":"'), lineFragment('{"_dock":{"id":"')]);
var QUOTE2 = lineFragment('"');
var END = Buffer.concat([lineFragment("}}"), Buffer.from('"}')]);
var QUOTE_END = Buffer.concat([QUOTE2, END]);
function put(out, p, b) {
  if (b.length > 48) {
    out.set(b, p);
    return p + b.length;
  }
  for (let i = 0; i < b.length; i++) out[p++] = b[i];
  return p;
}
var CopyRowEncoder = class {
  constructor(o) {
    this.o = o;
    this.fields = o.columns.length + (o.ctidFirst ? 1 : 0);
    this.hashPrefix = Buffer.from(`${o.source}
${o.stream}
`, "utf8");
    this.ids.input.bytes(this.hashPrefix);
    this.afterId = lineFragment(`","source":${J(o.source)},"stream":${J(o.stream)},"pattern":"full_refresh","key":"`);
    this.beforeTime = lineFragment(`","version":${J(o.runId)},"op":"snapshot","received_at":"`);
    this.afterTime = lineFragment(`","run_id":${J(o.runId)}},"data":{`);
    this.openValue = o.columns.map((c, i) => lineFragment(`${i > 0 ? "," : ""}${J(c)}:"`));
    this.nullValue = o.columns.map((c, i) => lineFragment(`${i > 0 ? "," : ""}${J(c)}:null`));
    this.closeThenOpen = this.openValue.map((b) => Buffer.concat([QUOTE2, b]));
    this.closeThenNull = this.nullValue.map((b) => Buffer.concat([QUOTE2, b]));
    this.versionBytes = Buffer.from(`
${o.runId}`, "utf8");
    const constant = [REC_ID, REC_LINE, this.afterId, this.beforeTime, this.afterTime, END, ...this.nullValue, ...this.openValue];
    this.fixedBytes = constant.reduce((n, b) => n + b.length, 0) + o.columns.length * QUOTE2.length + 2 * 32 + 64;
  }
  fields;
  ids = new DockIdWriter();
  hashPrefix;
  afterId;
  beforeTime;
  afterTime;
  /** Per column: what opens its value (`,` but for the first, `\"name\":`, and the opening quote). */
  openValue;
  /** Per column: the same for a NULL, through `null`. */
  nullValue;
  /** The same two, after the closing quote of a string in the column before (one copy instead of two). */
  closeThenOpen;
  closeThenNull;
  versionBytes;
  fixedBytes;
  clockText = "";
  /** `beforeTime`, the time and `afterTime`: the same for every row of a chunk. */
  timeBytes = Buffer.alloc(0);
  rest = null;
  /** Encodes every complete row in `chunk` (a partial last row waits for the next chunk); returns rows written. */
  push(chunk, out) {
    this.tickClock();
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let rows = 0;
    let lineStart = 0;
    for (let nl = buf.indexOf(NEWLINE, lineStart); nl >= 0; nl = buf.indexOf(NEWLINE, lineStart)) {
      this.row(buf, lineStart, nl, out);
      rows++;
      lineStart = nl + 1;
    }
    if (lineStart < buf.length) this.rest = Buffer.from(buf.subarray(lineStart));
    return rows;
  }
  /** A last row without its newline. */
  end(out) {
    const rest = this.rest;
    this.rest = null;
    if (!rest || rest.length === 0) return 0;
    this.tickClock();
    this.row(rest, 0, rest.length, out);
    return 1;
  }
  row(src, a, b, records) {
    const key = this.keyOf(src, a, b);
    const keyEnd = typeof key === "string" ? 0 : fieldEnd(src, key, b);
    const h = this.ids.input;
    h.pos = this.hashPrefix.length;
    if (typeof key === "string") h.utf8(key);
    else h.range(src, key, keyEnd);
    h.bytes(this.versionBytes);
    const w = records.w;
    const start = w.pos;
    w.ensure(this.fixedBytes + (b - a) * 14);
    let out = w.buf;
    let p = put(out, w.pos, REC_ID);
    const idAt = p;
    p = this.ids.write(out, p);
    p = put(out, p, REC_LINE);
    for (let k = 0; k < 32; k++) out[p++] = out[idAt + k];
    p = put(out, p, this.afterId);
    w.pos = p;
    if (typeof key === "string") w.twiceEscapedString(key);
    else w.twiceEscaped(src, key, keyEnd);
    w.ensure(this.fixedBytes + (b - a) * 14);
    out = w.buf;
    p = w.pos;
    p = put(out, p, this.timeBytes);
    let i = a;
    let field = 0;
    if (this.o.ctidFirst) {
      i = fieldEnd(src, a, b) + 1;
      field = 1;
    }
    let quoted = false;
    for (let c = 0; c < this.o.columns.length; c++, field++) {
      if (i > b) throw new Error(`COPY row has ${field} fields, expected ${this.fields}`);
      if (src[i] === BACKSLASH2 && src[i + 1] === NULL_FIELD && (i + 2 === b || src[i + 2] === TAB)) {
        p = put(out, p, quoted ? this.closeThenNull[c] : this.nullValue[c]);
        quoted = false;
        i += 3;
        continue;
      }
      p = put(out, p, quoted ? this.closeThenOpen[c] : this.openValue[c]);
      quoted = true;
      const valueAt = p;
      const fieldAt = i;
      let wide = false;
      let fallback = false;
      for (; i < b; i++) {
        const ch = src[i];
        const kind = CLASS[ch];
        if (kind === PLAIN) out[p++] = ch;
        else if (kind === FIELD_END) break;
        else if (kind === COPY_ESCAPE) {
          const v = i + 1 < b ? COPY_ESCAPED[src[i + 1]] : -1;
          if (v < 0) {
            fallback = true;
            break;
          }
          i++;
          p = escapeTwice(out, p, v);
        } else if (kind === JSON_ESCAPE) p = escapeTwice(out, p, ch);
        else {
          out[p++] = ch;
          wide = true;
        }
      }
      if (fallback || wide && !isUtf8Range(src, fieldAt, fieldEnd(src, fieldAt, b))) {
        const end = fieldEnd(src, fieldAt, b);
        w.pos = valueAt;
        w.twiceEscapedString(copyFieldText(src.toString("utf8", fieldAt, end)) ?? "");
        w.ensure(this.fixedBytes + (b - a) * 14);
        out = w.buf;
        p = w.pos;
        i = end;
      }
      if (c < this.o.columns.length - 1) {
        if (i >= b) throw new Error(`COPY row has ${field + 1} fields, expected ${this.fields}`);
        i++;
      }
    }
    if (i < b) throw new Error(`COPY row has more fields than the ${this.fields} expected`);
    p = put(out, p, quoted ? QUOTE_END : END);
    w.pos = p;
    records.close(start);
  }
  /**
   * The record key: where a one-column primary key's field starts when it can be copied as it is
   * (no escapes, valid UTF-8), else the key as a string (`ctid:(0,1)`, a JSON array for several).
   */
  keyOf(src, a, b) {
    const { keyIndexes, ctidFirst } = this.o;
    if (ctidFirst) return `ctid:${fieldText(src, a, b)}`;
    if (keyIndexes.length === 1) {
      const s = fieldStart(src, a, b, keyIndexes[0]);
      const e = fieldEnd(src, s, b);
      if (!hasBackslash(src, s, e) && isUtf8Range(src, s, e)) return s;
    }
    const values = keyIndexes.map((k) => fieldText(src, fieldStart(src, a, b, k), b));
    return values.length === 1 && typeof values[0] === "string" ? values[0] : JSON.stringify(values);
  }
  /** `received_at` is read once per chunk (a chunk takes milliseconds to encode). */
  tickClock() {
    const now = this.o.receivedAt();
    if (now !== this.clockText) {
      this.clockText = now;
      this.timeBytes = Buffer.concat([this.beforeTime, Buffer.from(now, "latin1"), this.afterTime]);
    }
  }
};
function fieldStart(src, a, b, index) {
  let i = a;
  for (let f = 0; f < index; f++) {
    i = fieldEnd(src, i, b) + 1;
    if (i > b) throw new Error(`COPY row has ${f + 1} fields, expected more than ${index}`);
  }
  return i;
}
function fieldEnd(src, from, b) {
  for (let i = from; i < b; i++) if (src[i] === TAB) return i;
  return b;
}
function fieldText(src, s, b) {
  return copyFieldText(src.toString("utf8", s, fieldEnd(src, s, b)));
}
function hasBackslash(buf, a, b) {
  for (let i = a; i < b; i++) if (buf[i] === BACKSLASH2) return true;
  return false;
}

// sidecar/src/pull/copy-encode-thread.ts
var encoder = new CopyRowEncoder({ ...import_node_worker_threads.workerData, receivedAt: cachedIsoClock() });
var port = import_node_worker_threads.parentPort;
if (!port) throw new Error("copy-encode-thread runs as a worker thread");
port.on("message", (m) => {
  const input = Buffer.from(m.input, 0, m.length);
  const out = m.output ? new StreamRecords(0, ByteWriter.over(Buffer.from(m.output))) : new StreamRecords(Math.max(m.length * 5, 65536));
  try {
    const rows = encoder.push(input, out) + encoder.end(out);
    const ends = Int32Array.from(out.ends);
    const buf = out.w.buf;
    const result = { seq: m.seq, rows, output: buf.buffer, pos: out.w.pos, ends: ends.buffer, input: m.input };
    port.postMessage(result, [buf.buffer, ends.buffer, m.input]);
  } catch (err) {
    port.postMessage({ seq: m.seq, error: err instanceof Error ? err.message : String(err), input: m.input }, [
      m.input
    ]);
  }
});
