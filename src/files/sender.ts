import {
  type BundleHeader,
  type BundleRecord,
  jsonBytes,
  knownRecordBytes,
  MESSAGE_BYTES,
  packBundles,
  recordJsonBytes,
} from "../envelope/bundle";
import { enqueueGroups } from "../ingest/enqueue";
import type { FilesEnv } from "./env";
import type { FileContext } from "./envelopes";

/** Records are sent in groups of this many, so the same step always sends the same bundles. */
const SEND_EVERY = 1000;

/** Sends records in fixed groups per stream: deterministic bundles, so the raw writer's bundle dedupe absorbs a repeated step. */
export class Sender {
  private pending = new Map<string, BundleRecord[]>();
  constructor(
    private env: FilesEnv,
    readonly ctx: FileContext,
  ) {}
  async add(stream: string, record: BundleRecord): Promise<void> {
    const list = this.pending.get(stream) ?? [];
    list.push(record);
    this.pending.set(stream, list);
    if (list.length >= SEND_EVERY) await this.flush(stream);
  }
  async flush(stream?: string): Promise<void> {
    for (const s of stream ? [stream] : [...this.pending.keys()]) {
      const list = this.pending.get(s) ?? [];
      this.pending.delete(s);
      if (list.length === 0) continue;
      const head: BundleHeader = {
        source: this.ctx.source,
        stream: s,
        pattern: "file",
        received_at: this.ctx.receivedAt,
        run_id: this.ctx.runId,
        dedupe: "bundle",
      };
      await enqueueGroups(this.env, groupsOf(head, list));
    }
  }
}

/**
 * The messages `enqueueRecords(head, list)` sends, as groups that each fit one message (or hold one
 * record too large for any): the group is measured from its records' sizes instead of serialised
 * whole only to find it is too large, so every record is serialised once, in its bundle. A group
 * of 1,000 file rows is several messages; a group that fits one stays whole.
 */
export function groupsOf(head: BundleHeader, list: BundleRecord[]): { head: BundleHeader; records: BundleRecord[] }[] {
  // The whole group's JSON: `{…head, "records":[]}` and each record, commas between them.
  let size = jsonBytes({ kind: "bundle", v: 1, ...head, records: [] }) - 1;
  for (const record of list) {
    let bytes = knownRecordBytes.get(record);
    if (bytes === undefined) {
      bytes = recordJsonBytes(record);
      // packBundles below reads it back instead of measuring the record again.
      knownRecordBytes.set(record, bytes);
    }
    size += bytes + 1;
  }
  if (size <= MESSAGE_BYTES) return [{ head, records: list }];
  const { bundles, oversized } = packBundles(head, list);
  return [...bundles, ...oversized].map(({ records }) => ({ head, records }));
}
