import type { BundleRecord } from "../envelope/bundle";
import { dockId } from "../envelope/dock-id";
import { envelopeLine, type Pattern } from "../envelope/envelope";
import type { Span } from "../envelope/json-spans";
import { isSafeSegment } from "../envelope/raw-keys";
import { arraySpansAt, scalarTextAt } from "./json-path";
import { recordVersion } from "./record-version";
import type { PollStream, RecordMeta, RecordView } from "./types";

/** A page the engine could not read: the run fails here, the cursor stays where it was. */
export class MalformedPage extends Error {}

export interface ParsedPage {
  json: unknown;
  spans: Span[];
  keys: string[];
  /** The cursor field's value per record (updated_at / id cursors). */
  cursorValues: (string | undefined)[];
}

/** Parses a page body and finds its records, without re-serialising any of them. */
export function parsePage(stream: PollStream, text: string, position: string): ParsedPage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MalformedPage(`${position}: the body is not JSON (${(err as Error).message}); first bytes: ${text.slice(0, 120)}`);
  }
  let spans: Span[];
  try {
    spans = typeof stream.records === "function" ? stream.records({ text, json }) : arraySpansAt(text, stream.records);
  } catch (err) {
    throw new MalformedPage(`${position}: no records where expected (${(err as Error).message})`);
  }
  const keyPaths = Array.isArray(stream.primaryKey) ? stream.primaryKey : [stream.primaryKey];
  const keys: string[] = [];
  const cursorValues: (string | undefined)[] = [];
  spans.forEach((span, i) => {
    const parts = keyPaths.map((p) => scalarTextAt(text, span, p));
    if (parts.some((p) => p === undefined)) {
      throw new MalformedPage(`${position}: record ${i} has no value at ${keyPaths.join(", ")} (its primary_key)`);
    }
    keys.push(parts.join("|"));
    cursorValues.push(stream.cursor && stream.cursor.kind !== "token" ? scalarTextAt(text, span, stream.cursor.field) : undefined);
  });
  return { json, spans, keys, cursorValues };
}

export interface EnvelopeContext {
  source: string;
  stream: PollStream;
  pattern: Pattern;
  receivedAt: string;
  runId: string;
}

/** A record view over one record's JSON text (its fields read from the text, parsed only on demand). */
export function recordView(json: string): RecordView {
  let parsed: { value: unknown } | undefined;
  return {
    text: json,
    field: (path) => scalarTextAt(json, [0, json.length], path),
    value: () => {
      parsed ??= { value: JSON.parse(json) as unknown };
      return parsed.value;
    },
  };
}

/** One envelope and the stream it is filed under (the polled stream, unless `describe` routes it). */
export interface RoutedRecord {
  stream: string;
  record: BundleRecord;
}

/**
 * One envelope per record. The version is the vendor's (`describe`'s, else the updated-at cursor
 * value) with a digest of the record's bytes, or the digest alone (see record-version.ts): an
 * unchanged record seen by two overlapping runs gets the same `_dock.id`, two states never share
 * one. A stream's `describe` may name key, version, op and (poll runs) stream itself.
 */
export async function routedEnvelopes(ctx: EnvelopeContext, text: string, page: ParsedPage): Promise<RoutedRecord[]> {
  const out: RoutedRecord[] = [];
  for (let i = 0; i < page.spans.length; i++) {
    const [start, end] = page.spans[i] as Span;
    const json = text.slice(start, end);
    let meta: RecordMeta = {};
    if (ctx.stream.describe) {
      try {
        meta = ctx.stream.describe(recordView(json));
      } catch (err) {
        throw new MalformedPage(`record ${i}: the stream could not describe it (${(err as Error).message})`);
      }
    }
    const key = meta.key ?? (page.keys[i] as string);
    const cursorValue = ctx.stream.cursor?.kind === "updated_at" ? page.cursorValues[i] : undefined;
    const version = await recordVersion(meta.version ?? cursorValue, json, ctx.stream.uniqueVersion);
    const stream = ctx.pattern === "full_refresh" ? ctx.stream.name : (meta.stream ?? ctx.stream.name);
    if (!isSafeSegment(stream)) throw new MalformedPage(`record ${i}: ${JSON.stringify(stream)} is not a valid stream name`);
    const op = meta.op ?? ctx.stream.op ?? "upsert";
    const id = await dockId(ctx.source, stream, key, version);
    const line = envelopeLine(
      {
        id,
        source: ctx.source,
        stream,
        pattern: ctx.pattern,
        key,
        version,
        // A snapshot row is a snapshot, except a row the vendor marks deleted: a delete never vanishes.
        op: ctx.pattern === "full_refresh" && op !== "delete" ? "snapshot" : op,
        received_at: ctx.receivedAt,
        run_id: ctx.runId,
      },
      { json },
    );
    out.push({ stream, record: { id, line } });
  }
  return out;
}

/** The envelopes of a page, all filed under the polled stream (see `routedEnvelopes`). */
export async function pageEnvelopes(ctx: EnvelopeContext, text: string, page: ParsedPage): Promise<BundleRecord[]> {
  return (await routedEnvelopes(ctx, text, page)).map((r) => r.record);
}

/** Routed records grouped by stream, in first-seen order (one INGEST bundle header per stream). */
export function byStream(records: RoutedRecord[]): Map<string, BundleRecord[]> {
  const groups = new Map<string, BundleRecord[]>();
  for (const r of records) {
    const group = groups.get(r.stream);
    if (group) group.push(r.record);
    else groups.set(r.stream, [r.record]);
  }
  return groups;
}
