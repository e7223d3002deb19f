import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { dockId } from "../../src/envelope/dock-id";
import { type DockMeta, envelopeLine, type Op, type Pattern, type Payload } from "../../src/envelope/envelope";
import { rawObjectKey, snapshotManifestKey, snapshotPartKey } from "../../src/envelope/raw-keys";

export interface Written {
  key: string;
  meta: DockMeta;
}

export interface RecordSpec {
  key: string;
  version: string;
  op?: Op;
  at: string;
  payload?: Payload;
}

/**
 * Writes a raw zone the way the raw writer lays it out (the Worker's own key and envelope
 * functions), as gzip'd JSON lines, and remembers every line written.
 */
export class RawZoneFixture {
  readonly lines: Written[] = [];
  readonly objects = new Map<string, Buffer>();
  constructor(readonly dir: string) {}

  private async metas(source: string, stream: string, pattern: Pattern, runId: string, records: RecordSpec[]) {
    return Promise.all(
      records.map(
        async (r): Promise<{ meta: DockMeta; payload: Payload }> => ({
          meta: {
            id: await dockId(source, stream, r.key, r.version),
            source,
            stream,
            pattern,
            key: r.key,
            version: r.version,
            op: r.op ?? "upsert",
            received_at: r.at,
            run_id: runId,
          },
          payload: r.payload ?? { json: JSON.stringify({ id: r.key, version: r.version }) },
        }),
      ),
    );
  }

  private put(key: string, entries: { meta: DockMeta; payload: Payload }[]) {
    const body = gzipSync(`${entries.map((e) => envelopeLine(e.meta, e.payload)).join("\n")}\n`);
    this.objects.set(key, body);
    mkdirSync(dirname(join(this.dir, key)), { recursive: true });
    writeFileSync(join(this.dir, key), body);
    for (const e of entries) this.lines.push({ key, meta: e.meta });
  }

  /** One batch into the hourly partition of its first record's received_at. */
  async batch(source: string, stream: string, pattern: Pattern, batchId: string, records: RecordSpec[]): Promise<string> {
    const at = new Date(records[0]?.at ?? Date.now());
    const key = rawObjectKey({ source, stream, pattern, at, batchId });
    this.put(key, await this.metas(source, stream, pattern, `run_${batchId}`, records));
    return key;
  }

  /** One snapshot part (and its manifest) of a full refresh. */
  async snapshot(source: string, stream: string, runId: string, records: RecordSpec[]): Promise<string> {
    const key = snapshotPartKey(source, stream, runId, 0);
    this.put(key, await this.metas(source, stream, "full_refresh", runId, records));
    const manifest = snapshotManifestKey(source, stream, runId);
    const body = Buffer.from(JSON.stringify({ parts: 1, records: records.length }));
    this.objects.set(manifest, body);
    writeFileSync(join(this.dir, manifest), body);
    return key;
  }
}
