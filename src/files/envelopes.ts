import { createHash } from "node:crypto";
import type { BundleRecord } from "../envelope/bundle";
import { type DockMeta, envelopeLine, type Payload } from "../envelope/envelope";

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
 * `dockId` (src/envelope/dock-id.ts) computed synchronously with node:crypto: a file step builds
 * tens of thousands of ids, and awaiting WebCrypto once per row costs about half the step's CPU.
 * The test suite checks both give the same id.
 */
export function rowDockId(source: string, stream: string, key: string, version: string): string {
  return createHash("sha256").update(`${source}\n${stream}\n${key}\n${version}`).digest("hex").slice(0, 32);
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

/** Our own document of a row's string fields (not a vendor payload, so stringify is right here). */
export function rowObject(names: readonly string[], fields: readonly string[]): string {
  const obj: Record<string, string> = {};
  names.forEach((name, i) => {
    obj[name] = fields[i] ?? "";
  });
  return JSON.stringify(obj);
}
