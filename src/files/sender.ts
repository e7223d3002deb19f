import type { BundleRecord } from "../envelope/bundle";
import { enqueueRecords } from "../ingest/enqueue";
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
      await enqueueRecords(
        this.env,
        { source: this.ctx.source, stream: s, pattern: "file", received_at: this.ctx.receivedAt, run_id: this.ctx.runId, dedupe: "bundle" },
        list,
      );
    }
  }
}
