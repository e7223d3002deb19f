/**
 * Turns out-of-order batch completions into the durable LSN: the commit end LSN of the last
 * transaction whose every change sits in a batch that, together with every earlier batch, was
 * answered 2xx. Batches are numbered in the order their changes arrived from the slot.
 */
export class AckTracker {
  private readonly pending = new Map<number, { commitEnd: bigint | null; done: boolean }>();
  private next = 0;
  private head = 0;
  private durableLsn: bigint;

  constructor(start: bigint) {
    this.durableLsn = start;
  }

  get durable(): bigint {
    return this.durableLsn;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Registers a batch; `commitEnd` is the end LSN of the last transaction that committed inside it. */
  open(commitEnd: bigint | null): number {
    const seq = this.next++;
    this.pending.set(seq, { commitEnd, done: false });
    return seq;
  }

  /** Marks a batch answered 2xx; returns the durable LSN if it moved. */
  complete(seq: number): bigint | null {
    const entry = this.pending.get(seq);
    if (!entry) throw new Error(`unknown batch ${seq}`);
    entry.done = true;
    let moved = false;
    for (let e = this.pending.get(this.head); e?.done; e = this.pending.get(this.head)) {
      if (e.commitEnd !== null && e.commitEnd > this.durableLsn) {
        this.durableLsn = e.commitEnd;
        moved = true;
      }
      this.pending.delete(this.head);
      this.head++;
    }
    return moved ? this.durableLsn : null;
  }

  /**
   * With nothing received and unconfirmed, the server's reported position is safe to confirm:
   * it lets a quiet publication release WAL that other tables produced.
   */
  advanceIdle(serverWalEnd: bigint): bigint | null {
    if (this.pending.size > 0 || serverWalEnd <= this.durableLsn) return null;
    this.durableLsn = serverWalEnd;
    return this.durableLsn;
  }
}
