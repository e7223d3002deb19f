import { AckTracker } from "./ack-tracker";
import { type BundleHead, deliveryBody, type OutRecord, packStream } from "./bundle-pack";

export interface PipelineOptions {
  source: string;
  runId: string;
  maxRecords: number;
  maxBytes: number;
  maxInFlight: number;
  /** How long a batch with a commit in it may wait for more changes before it is sent. */
  lingerMs: number;
  startLsn: bigint;
  send: (messageId: string, body: Buffer, records: number) => Promise<void>;
  onDurable: (lsn: bigint) => void;
  onFatal: (err: Error) => void;
  now?: () => string;
}

interface OpenBatch {
  byStream: Map<string, { id: string; line: string }[]>;
  records: number;
  bytes: number;
}

const emptyBatch = (): OpenBatch => ({ byStream: new Map(), records: 0, bytes: 0 });

/**
 * Collects changes into batches, cut by a record or byte budget (mid-transaction if need be),
 * sends them with at most `maxInFlight` deliveries outstanding, and reports the durable LSN as
 * batches complete. `hasCapacity` is the backpressure signal for the socket reader.
 */
export class BatchPipeline {
  private open = emptyBatch();
  private readonly tracker: AckTracker;
  private readonly inFlightPromises = new Set<Promise<void>>();
  private capacityWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | null = null;
  private failed: Error | null = null;
  private batchCounter = 0;
  delivered = 0;

  constructor(private readonly opts: PipelineOptions) {
    this.tracker = new AckTracker(opts.startLsn);
  }

  get durable(): bigint {
    return this.tracker.durable;
  }

  get inFlight(): number {
    return this.tracker.inFlight;
  }

  get hasCapacity(): boolean {
    return this.tracker.inFlight < this.opts.maxInFlight;
  }

  /** Nothing buffered and nothing awaiting an answer. */
  get idle(): boolean {
    return this.tracker.idle;
  }

  add(record: OutRecord): void {
    let list = this.open.byStream.get(record.stream);
    if (!list) {
      list = [];
      this.open.byStream.set(record.stream, list);
    }
    list.push(record);
    if (this.open.records === 0) this.tracker.opened();
    this.open.records++;
    this.open.bytes += record.line.length + 64;
    if (this.open.records >= this.opts.maxRecords || this.open.bytes >= this.opts.maxBytes) this.cut();
  }

  /** A transaction committed: every change before this call belongs to batches up to the open one. */
  commit(endLsn: bigint): void {
    const moved = this.tracker.committed(endLsn);
    if (moved !== null) this.opts.onDurable(moved);
    if (this.open.records > 0 && !this.lingerTimer) this.lingerTimer = setTimeout(() => this.cut(), this.opts.lingerMs);
  }

  advanceIdle(walEnd: bigint): void {
    if (!this.idle) return;
    const moved = this.tracker.advanceIdle(walEnd);
    if (moved !== null) this.opts.onDurable(moved);
  }

  waitCapacity(): Promise<void> {
    if (this.hasCapacity) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  /** Sends whatever is open (even a partial transaction) and waits for every delivery to settle. */
  async flush(): Promise<void> {
    this.cut();
    while (this.inFlightPromises.size > 0) await Promise.allSettled([...this.inFlightPromises]);
  }

  cut(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    const batch = this.open;
    if (batch.records === 0) return;
    this.open = emptyBatch();
    const seq = this.tracker.sent();
    const receivedAt = this.opts.now?.() ?? new Date().toISOString();
    const texts: string[] = [];
    for (const [stream, records] of batch.byStream) {
      const head: BundleHead = { source: this.opts.source, stream, pattern: "cdc", received_at: receivedAt, run_id: this.opts.runId };
      texts.push(...packStream(head, records));
    }
    const messageId = `${this.opts.runId}-${this.batchCounter++}`;
    // Only the encoded body stays alive while the delivery is out: records and texts become garbage now.
    const records = batch.records;
    const body = Buffer.from(deliveryBody(texts), "utf8");
    const p = this.opts
      .send(messageId, body, records)
      .then(() => {
        this.delivered += records;
        this.settle(seq);
      })
      .catch((err: Error) => {
        this.failed ??= err;
        this.opts.onFatal(err);
      })
      .finally(() => this.inFlightPromises.delete(p));
    this.inFlightPromises.add(p);
  }

  get failure(): Error | null {
    return this.failed;
  }

  private settle(seq: number): void {
    const moved = this.tracker.complete(seq);
    if (moved !== null) this.opts.onDurable(moved);
    if (this.hasCapacity) {
      const waiters = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of waiters) w();
    }
  }
}
