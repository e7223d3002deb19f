import type { BundleRecord } from "../envelope/bundle";
import { dockId } from "../envelope/dock-id";
import { envelopeLine, type Pattern } from "../envelope/envelope";
import type { Span } from "../envelope/json-spans";
import { sha256Hex } from "../lib/crypto";
import { arraySpansAt, scalarTextAt } from "./json-path";
import type { PollStream } from "./types";

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

/**
 * One envelope per record. The version is the record's updated-at value when the stream has one
 * (so an unchanged record seen by two overlapping runs gets the same `_dock.id`), otherwise a
 * hash of its bytes.
 */
export async function pageEnvelopes(ctx: EnvelopeContext, text: string, page: ParsedPage): Promise<BundleRecord[]> {
  const out: BundleRecord[] = [];
  for (let i = 0; i < page.spans.length; i++) {
    const [start, end] = page.spans[i] as Span;
    const json = text.slice(start, end);
    const key = page.keys[i] as string;
    const cursorValue = ctx.stream.cursor?.kind === "updated_at" ? page.cursorValues[i] : undefined;
    const version = cursorValue ?? (await sha256Hex(json)).slice(0, 32);
    const id = await dockId(ctx.source, ctx.stream.name, key, version);
    const line = envelopeLine(
      {
        id,
        source: ctx.source,
        stream: ctx.stream.name,
        pattern: ctx.pattern,
        key,
        version,
        op: ctx.pattern === "full_refresh" ? "snapshot" : "upsert",
        received_at: ctx.receivedAt,
        run_id: ctx.runId,
      },
      { json },
    );
    out.push({ id, line });
  }
  return out;
}
