import type { DeliveryBody } from "../delivery/signed-sender";
import type { ChangeStreamDocument } from "mongodb";
import { deliveryBody, type OutRecord, packStream } from "../delivery/bundle-pack";
import { changeEventRecord } from "./change-event-record";

/** What the loop needs from a driver ChangeStream (so the loop can be tested without a server). */
export interface ChangeSource {
  tryNext(): Promise<ChangeStreamDocument | null>;
  close(): Promise<void>;
}

export interface MongoCdcOptions {
  source: string;
  runId: string;
  maxRecords: number;
  /** Idle wait between empty polls of the stream. */
  idleMs: number;
  deliver: (messageId: string, body: DeliveryBody, records: number) => Promise<void>;
  saveToken: (token: unknown) => void;
  now?: () => string;
}

/**
 * Reads a change stream into batches and delivers them one at a time; the resume token of a
 * batch's last event is saved only after the Worker answered 2xx for the whole batch, so a
 * restart resumes after what is durable and re-sends (same `_dock.id`) what may not be.
 */
export class MongoCdc {
  private stopped = false;
  delivered = 0;
  constructor(
    private readonly stream: ChangeSource,
    private readonly opts: MongoCdcOptions,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    let batch: OutRecord[] = [];
    let lastToken: unknown;
    let n = 0;
    const flush = async () => {
      if (lastToken === undefined) return;
      if (batch.length > 0) {
        const byStream = new Map<string, OutRecord[]>();
        for (const r of batch) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r]);
        const received = this.opts.now?.() ?? new Date().toISOString();
        const texts = [...byStream].flatMap(([stream, rs]) =>
          packStream({ source: this.opts.source, stream, pattern: "cdc", received_at: received, run_id: this.opts.runId }, rs),
        );
        await this.opts.deliver(`${this.opts.runId}-${n++}`, deliveryBody(texts), batch.length);
        this.delivered += batch.length;
      }
      this.opts.saveToken(lastToken);
      batch = [];
      lastToken = undefined;
    };
    try {
      while (!this.stopped) {
        const event = await this.stream.tryNext();
        if (!event) {
          await flush();
          await new Promise((r) => setTimeout(r, this.opts.idleMs));
          continue;
        }
        const record = changeEventRecord(this.opts.source, this.opts.runId, this.opts.now?.() ?? new Date().toISOString(), event);
        if (record) batch.push(record);
        lastToken = event._id;
        if (batch.length >= this.opts.maxRecords) await flush();
      }
      await flush();
    } finally {
      await this.stream.close();
    }
  }
}
