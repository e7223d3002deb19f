import { type BundleRecord, jsonEscapedBytes, knownRecordBytes } from "../envelope/bundle";
import { type DockMeta, envelopeLine, type Payload, toSingleLine } from "../envelope/envelope";
import { sha256HexSync } from "../lib/sha256-sync";

export interface FileContext {
  source: string;
  name: string;
  key: string;
  sha256: string;
  runId: string;
  /** When the file landed: every row of it lands in that hour's partition, whichever step reads it. */
  receivedAt: string;
}

/**
 * `dockId` (src/envelope/dock-id.ts) computed synchronously in plain JS (src/lib/sha256-sync.ts): a
 * file step builds tens of thousands of ids, and awaiting WebCrypto once per row costs about half
 * the step's CPU; a call into node:crypto per row costs more than the hashing. The test suite checks
 * both give the same id.
 */
export function rowDockId(source: string, stream: string, key: string, version: string): string {
  return sha256HexSync(`${source}\n${stream}\n${key}\n${version}`, 32);
}

/**
 * The parts of a file's envelope lines that do not change from row to row, in the order
 * `envelopeLine` writes them: a row then costs its id and two numbers, not a JSON.stringify of
 * its `_dock` (the test suite compares both on every kind of row).
 */
interface LineTemplate {
  /** The text an id is hashed from, up to the line number: `<source>\n<stream>\n<name>#`. */
  idHead: string;
  /** `\n<version>`, after the line number. */
  idTail: string;
  /** `","source":…,"key":"<name>#` (JSON string without its closing quote). */
  afterId: string;
  /** `","version":…,"run_id":…` */
  afterKey: string;
  /** `,"file":…,"line":` */
  file: string;
  /** Escaped bytes (jsonEscapedBytes) of a valid row's line less its id, numbers and data. */
  fixedBytes: number;
}
const templates = new WeakMap<FileContext, Map<string, LineTemplate>>();

function lineTemplate(ctx: FileContext, stream: string): LineTemplate {
  let byStream = templates.get(ctx);
  if (!byStream) {
    byStream = new Map();
    templates.set(ctx, byStream);
  }
  let t = byStream.get(stream);
  if (!t) {
    const j = JSON.stringify;
    t = {
      idHead: `${ctx.source}\n${stream}\n${ctx.name}#`,
      idTail: `\n${ctx.sha256}`,
      afterId: `","source":${j(ctx.source)},"stream":${j(stream)},"pattern":"file","key":${j(`${ctx.name}#`).slice(0, -1)}`,
      afterKey: `","version":${j(ctx.sha256)},"op":"snapshot","received_at":${j(ctx.receivedAt)},"run_id":${j(ctx.runId)}`,
      file: `,"file":${j(ctx.key)},"line":`,
      fixedBytes: 0,
    };
    t.fixedBytes = jsonEscapedBytes(`{"_dock":{"id":"${t.afterId}${t.afterKey}${t.file}},"data":`);
    byStream.set(stream, t);
  }
  return t;
}

/**
 * One row of a file as an envelope. Its key is `<file name>#<line>` and its version the file's
 * sha256, so re-reading a step gives the same ids and a new version of the file gives new ones.
 */
export function rowEnvelope(
  ctx: FileContext,
  stream: string,
  position: { line: number; sheet?: string },
  payload: Payload,
  error?: string,
): BundleRecord {
  if (!position.sheet && Number.isSafeInteger(position.line)) {
    const { id, dock } = dockPart(ctx, stream, position.line, error);
    if ("json" in payload) {
      const data = toSingleLine(payload.json);
      const record = { id, line: `${dock},"data":${data}}` };
      // The line's size from its template, so packBundles measures only the data.
      if (error === undefined || error === "") knowRecordBytes(record, ctx, stream, position.line, jsonEscapedBytes(data));
      return record;
    }
    if ("raw" in payload) return { id, line: `${dock},"raw":${JSON.stringify(payload.raw)}}` };
  }
  return rowEnvelopeByObject(ctx, stream, position, payload, error);
}

/** `rowEnvelope` of `{ json: rowObject(names, fields) }`, whose JSON (stringify's) holds no line break to look for. */
export function rowObjectEnvelope(
  ctx: FileContext,
  stream: string,
  line: number,
  names: readonly string[],
  fields: readonly string[],
): BundleRecord {
  const keys = objectKeys(names);
  if (!keys || !Number.isSafeInteger(line)) return rowEnvelope(ctx, stream, { line }, { json: rowObject(names, fields) });
  // The line's size in a bundle's JSON is counted from its parts here, for packBundles.
  let data = "";
  let dataBytes = (keyBytes.get(keys) as number) + 1;
  for (let i = 0; i < keys.length; i++) {
    const field = fields[i] ?? "";
    if (PLAIN.test(field)) {
      // Printable ASCII without quote or backslash: its JSON is itself in quotes, 4 bytes more in the line's escaping.
      data += `${keys[i] as string}"${field}"`;
      dataBytes += field.length + 4;
    } else {
      const value = JSON.stringify(field);
      data += (keys[i] as string) + value;
      dataBytes += jsonEscapedBytes(value);
    }
  }
  const { id, dock } = dockPart(ctx, stream, line);
  const record = { id, line: `${dock},"data":${data}}}` };
  knowRecordBytes(record, ctx, stream, line, dataBytes);
  return record;
}

/**
 * Records a template-built row's size in a bundle's JSON for packBundles:
 * {"id":"<32 hex>","line":"<line>"}; the line: its fixed parts, the id, the line number twice, the data (escaped) and its closing brace.
 */
function knowRecordBytes(record: BundleRecord, ctx: FileContext, stream: string, line: number, dataBytes: number): void {
  knownRecordBytes.set(record, 19 + 32 + lineTemplate(ctx, stream).fixedBytes + 32 + 2 * String(line).length + dataBytes + 1);
}

/** The id and the `{"_dock":{…}` start of a text row's line, from the file's template. */
function dockPart(ctx: FileContext, stream: string, line: number, error?: string): { id: string; dock: string } {
  const t = lineTemplate(ctx, stream);
  const id = sha256HexSync(t.idHead + line + t.idTail, 32);
  const errorPart = error === undefined || error === "" ? "" : `,"error":${JSON.stringify(error)}`;
  return { id, dock: `{"_dock":{"id":"${id}${t.afterId}${line}${t.afterKey}${errorPart}${t.file}${line}}` };
}

/** `rowEnvelope` through the envelope's object and JSON.stringify: sheets, and the reference for the tests. */
export function rowEnvelopeByObject(
  ctx: FileContext,
  stream: string,
  position: { line: number; sheet?: string },
  payload: Payload,
  error?: string,
): BundleRecord {
  const key = position.sheet ? `${ctx.name}#${position.sheet}!${position.line}` : `${ctx.name}#${position.line}`;
  const id = rowDockId(ctx.source, stream, key, ctx.sha256);
  const meta: DockMeta = {
    id,
    source: ctx.source,
    stream,
    pattern: "file",
    key,
    version: ctx.sha256,
    op: "snapshot",
    received_at: ctx.receivedAt,
    run_id: ctx.runId,
    ...(error ? { error } : {}),
    extra: { file: ctx.key, line: position.line, ...(position.sheet ? { sheet: position.sheet } : {}) },
  };
  return { id, line: envelopeLine(meta, payload) };
}

/**
 * Our own document of a row's string fields (not a vendor payload, so stringify is right here).
 * Built from the names' JSON once per header and each value's JSON; headers an object would
 * reorder (integer-like names go first) or swallow (`__proto__`) take the object route.
 */
export function rowObject(names: readonly string[], fields: readonly string[]): string {
  const keys = objectKeys(names);
  if (!keys) return rowObjectByObject(names, fields);
  let out = "";
  for (let i = 0; i < keys.length; i++) out += (keys[i] as string) + JSON.stringify(fields[i] ?? "");
  return `${out}}`;
}

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;
/** Text JSON.stringify writes as it is (printable ASCII but `"` and `\`). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const keyCache = new WeakMap<readonly string[], string[] | null>();
/** jsonEscapedBytes of all of a header's key parts together. */
const keyBytes = new WeakMap<string[], number>();

/** `{"a":`, `,"b":`, … for names an object keeps in order, once each; null when it would not. */
function objectKeys(names: readonly string[]): string[] | null {
  let keys = keyCache.get(names);
  if (keys !== undefined) return keys;
  const plain =
    new Set(names).size === names.length && names.every((n) => n !== "__proto__" && !(INDEX_LIKE.test(n) && Number(n) < 4294967295));
  keys = plain && names.length > 0 ? names.map((n, i) => `${i === 0 ? "{" : ","}${JSON.stringify(n)}:`) : null;
  keyCache.set(names, keys);
  if (keys) keyBytes.set(keys, jsonEscapedBytes(keys.join("")));
  return keys;
}

export function rowObjectByObject(names: readonly string[], fields: readonly string[]): string {
  const obj: Record<string, string> = {};
  names.forEach((name, i) => {
    obj[name] = fields[i] ?? "";
  });
  return JSON.stringify(obj);
}
