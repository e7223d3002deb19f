/**
 * Computes the durable LSN from out-of-order batch completions.
 *
 * Each batch remembers its `floor`: the end LSN of the last transaction that had committed before
 * the batch's first change arrived. Every change of those transactions sits in earlier batches.
 * So while batches are unanswered, the earliest one's floor is durable; when none is, the last
 * commit end is. Never one byte more: confirming past a commit's end would skip a transaction
 * whose commit record starts exactly there.
 */
export class AckTracker {
  private readonly pending = new Map<number, { floor: bigint; done: boolean }>();
  private next = 0;
  private head = 0;
  private durableLsn: bigint;
  private lastCommitEnd: bigint;
  /** Floor of the batch still being filled, or null when it holds no change. */
  private openFloor: bigint | null = null;

  constructor(start: bigint) {
    this.durableLsn = start;
    this.lastCommitEnd = start;
  }

  get durable(): bigint {
    return this.durableLsn;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get idle(): boolean {
    return this.pending.size === 0 && this.openFloor === null;
  }

  /** The open batch received its first change. */
  opened(): void {
    if (this.openFloor === null) this.openFloor = this.lastCommitEnd;
  }

  /** A transaction committed; returns the durable LSN if it moved. */
  committed(endLsn: bigint): bigint | null {
    if (endLsn > this.lastCommitEnd) this.lastCommitEnd = endLsn;
    return this.advance();
  }

  /** The open batch was cut and sent; returns its number. */
  sent(): number {
    const seq = this.next++;
    this.pending.set(seq, { floor: this.openFloor ?? this.lastCommitEnd, done: false });
    this.openFloor = null;
    return seq;
  }

  /** A batch was answered 2xx; returns the durable LSN if it moved. */
  complete(seq: number): bigint | null {
    const entry = this.pending.get(seq);
    if (!entry) throw new Error(`unknown batch ${seq}`);
    entry.done = true;
    for (let e = this.pending.get(this.head); e?.done; e = this.pending.get(this.head)) {
      this.pending.delete(this.head);
      this.head++;
    }
    return this.advance();
  }

  /**
   * With nothing received and unconfirmed, the server's reported position is safe to confirm:
   * it lets a quiet publication release WAL that other tables produced.
   */
  advanceIdle(serverWalEnd: bigint): bigint | null {
    if (!this.idle || serverWalEnd <= this.durableLsn) return null;
    this.durableLsn = serverWalEnd;
    if (serverWalEnd > this.lastCommitEnd) this.lastCommitEnd = serverWalEnd;
    return this.durableLsn;
  }

  private advance(): bigint | null {
    const first = this.pending.get(this.head);
    const candidate = first ? first.floor : (this.openFloor ?? this.lastCommitEnd);
    if (candidate <= this.durableLsn) return null;
    this.durableLsn = candidate;
    return candidate;
  }
}
