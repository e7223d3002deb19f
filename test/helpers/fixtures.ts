import { createMessageBatch } from "cloudflare:test";
import type { BundleRecord, RecordBundle } from "../../src/envelope/bundle";
import { dockId } from "../../src/envelope/dock-id";
import { envelopeLine, type Pattern } from "../../src/envelope/envelope";

let counter = 0;

/** An envelope record as a producer would build it. */
export async function aRecord(
  over: {
    source?: string;
    stream?: string;
    key?: string;
    version?: string;
    json?: string;
    pattern?: Pattern;
    receipt?: string;
    receivedAt?: string;
  } = {},
): Promise<BundleRecord> {
  const source = over.source ?? "acme";
  const stream = over.stream ?? "events";
  const key = over.key ?? `k${++counter}`;
  const version = over.version ?? "v1";
  const id = await dockId(source, stream, key, version);
  const line = envelopeLine(
    {
      id,
      source,
      stream,
      pattern: over.pattern ?? "webhook",
      key,
      version,
      op: "event",
      received_at: over.receivedAt ?? "2026-11-25T07:00:00.000Z",
      run_id: "r1",
    },
    { json: over.json ?? `{"id":"${key}"}` },
  );
  return { id, line, ...(over.receipt ? { receipt: over.receipt } : {}) };
}

export function aBundle(records: BundleRecord[], over: Partial<RecordBundle> = {}): RecordBundle {
  return {
    kind: "bundle",
    v: 1,
    source: "acme",
    stream: "events",
    pattern: "webhook",
    received_at: "2026-11-25T07:00:00.000Z",
    ...over,
    records,
  };
}

let messageCounter = 0;
/** A MessageBatch built with the pool's helper, as the INGEST queue would deliver it. */
export function anIngestBatch(bodies: unknown[], attempts = 1) {
  return createMessageBatch(
    "loading-dock-ingest",
    bodies.map((body) => ({ id: `m${++messageCounter}`, timestamp: new Date(), attempts, body })),
  );
}
