import { AckTracker } from "./ack-tracker";
import { type BundleHead, deliveryBody, type OutRecord, StreamRecords } from "./bundle-pack";

export interface PipelineOptions {
  source: string;
  runId: string;
  maxRecords: number;
  maxBytes: number;
  maxInFlight: number;
  /** How long a batch with a commit in it may wait for more changes before it is sent. */
  lingerMs: number;
  startLsn: bigint;
  send: (messageId: string, body: readonly Buffer[], records: number) => Promise<void>;
  onDurable: (lsn: bigint) => void;
  onFatal: (err: Error) => void;
  now?: () => string;
}

interface OpenBatch {
  byStream: Map<string, StreamRecords>;
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
  /**
   * Record buffers of answered batches, reused so that a busy stream neither regrows nor faults in
   * a fresh multi-megabyte buffer per batch. A batch's buffers are its request body until answered.
   */
  private readonly spare: StreamRecords[] = [];
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

  /** Where the next record of `stream` is written; `added` must follow once it is. */
  records(stream: string): StreamRecords {
    let list = this.open.byStream.get(stream);
    if (!list) {
      list = this.spare.pop() ?? new StreamRecords();
      this.open.byStream.set(stream, list);
    }
    return list;
  }

  added(bytes: number): void {
    if (this.open.records === 0) this.tracker.opened();
    this.open.records++;
    this.open.bytes += bytes;
    if (this.open.records >= this.opts.maxRecords || this.open.bytes >= this.opts.maxBytes) this.cut();
  }

  /** A record built as an envelope line. */
  add(record: OutRecord): void {
    this.added(this.records(record.stream).addLine(record.id, record.line));
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
    const groups: Buffer[][] = [];
    for (const [stream, records] of batch.byStream) {
      const head: BundleHead = { source: this.opts.source, stream, pattern: "cdc", received_at: receivedAt, run_id: this.opts.runId };
      groups.push(...records.groups(() => head));
    }
    const messageId = `${this.opts.runId}-${this.batchCounter++}`;
    const records = batch.records;
    const body = deliveryBody(groups);
    const release = () => {
      for (const list of batch.byStream.values()) {
        list.clear();
        if (this.spare.length < this.opts.maxInFlight + 1) this.spare.push(list);
      }
    };
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
      .finally(() => {
        release();
        this.inFlightPromises.delete(p);
      });
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
