export const PATTERNS = ["webhook", "poll", "full_refresh", "file", "cdc", "reconcile"] as const;
export type Pattern = (typeof PATTERNS)[number];
export type Op = "upsert" | "delete" | "event" | "insert" | "update" | "snapshot";

/** `_dock`: our metadata, in this field order. Pattern-specific facts (lsn, line) follow in `extra`. */
export interface DockMeta {
  id: string;
  source: string;
  stream: string;
  pattern: Pattern;
  key: string;
  version: string;
  op: Op;
  received_at: string;
  run_id: string;
  error?: string;
  extra?: Record<string, string | number | boolean | null>;
}

/** What the vendor sent: JSON text spliced in as is, or anything else kept as a string. */
export type Payload = { json: string } | { raw: string } | { rawBase64: string };

/**
 * Literal line breaks in valid JSON can only sit between tokens (inside strings they must be
 * escaped), so turning them into spaces keeps the document's meaning and bytes elsewhere.
 */
export function toSingleLine(json: string): string {
  return /[\r\n]/.test(json) ? json.replace(/[\r\n]/g, " ") : json;
}

export function envelopeLine(meta: DockMeta, payload: Payload): string {
  const { extra, ...fixed } = meta;
  const dock = JSON.stringify(extra ? { ...fixed, ...extra } : fixed);
  if ("json" in payload) return `{"_dock":${dock},"data":${toSingleLine(payload.json)}}`;
  if ("raw" in payload) return `{"_dock":${dock},"raw":${JSON.stringify(payload.raw)}}`;
  return `{"_dock":${dock},"raw_base64":${JSON.stringify(payload.rawBase64)}}`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decides how a body is kept: JSON as is, other UTF-8 text as a string, other bytes as base64. */
export function payloadOf(body: Uint8Array): { payload: Payload; text: string | null; parsed: unknown } {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    let binary = "";
    for (const b of body) binary += String.fromCharCode(b);
    return { payload: { rawBase64: btoa(binary) }, text: null, parsed: undefined };
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return { payload: { json: text }, text, parsed };
  } catch {
    return { payload: { raw: text }, text, parsed: undefined };
  }
}
