import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { unpackMessageBody } from "../../src/envelope/message-body";

interface Held<T> {
  id: string;
  body: T;
  attempts: number;
}

/**
 * An at-least-once queue for the fault suite: it holds what producers sent and delivers it in
 * batches to a consumer, honouring ackAll / retryAll / per-message ack and retry exactly as the
 * pool's getQueueResult reports them, and parks a message in a dead-letter list after maxRetries.
 * The real local queue cannot hand its consumer a faulty env; this can.
 */
export class SimQueue<T = unknown> {
  private held: Held<T>[] = [];
  private next = 0;
  readonly deadLetters: Held<T>[] = [];
  delivered = 0;
  /** Records carried by everything ever sent (bundles count their records), repeats included. */
  recordsSent = 0;

  async send(body: T): Promise<void> {
    // A "bytes" message reaches the consumer as an ArrayBuffer, as on the real queue.
    const held = ArrayBuffer.isView(body)
      ? (body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as T)
      : structuredClone(body);
    const unpacked = unpackMessageBody(held);
    const b = (unpacked.ok ? unpacked.value : {}) as { kind?: string; records?: unknown[] | number };
    this.recordsSent += Array.isArray(b.records) ? b.records.length : typeof b.records === "number" ? b.records : 0;
    this.held.push({ id: `sim-${++this.next}`, body: held, attempts: 0 });
  }

  async sendBatch(messages: Iterable<MessageSendRequest<T>>): Promise<void> {
    for (const m of messages) await this.send(m.body);
  }

  get pending(): number {
    return this.held.length;
  }

  asQueue(): Queue<T> {
    return this as unknown as Queue<T>;
  }

  /** Delivers until nothing is left; returns how many batches it took. */
  async drain(consume: (batch: MessageBatch<T>) => Promise<void>, opts = { batchSize: 100, maxRetries: 10 }): Promise<number> {
    let batches = 0;
    while (this.held.length > 0) {
      const taken = this.held.splice(0, opts.batchSize);
      for (const m of taken) m.attempts++;
      const batch = createMessageBatch<T>(
        "loading-dock-ingest",
        taken.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: m.body })),
      );
      const ctx = createExecutionContext();
      await consume(batch);
      const result = await getQueueResult(batch, ctx);
      batches++;
      this.delivered += taken.length;
      for (const m of taken) {
        const acked = result.ackAll || result.explicitAcks.includes(m.id);
        const retried =
          (result.retryBatch.retry && !result.explicitAcks.includes(m.id)) ||
          result.retryMessages.some((r: { msgId: string }) => r.msgId === m.id);
        if (acked && !retried) continue;
        if (m.attempts > opts.maxRetries) this.deadLetters.push(m);
        else this.held.push(m);
      }
    }
    return batches;
  }

  /** What an operator does with a dead-letter queue: put it back. */
  redrive(): number {
    const n = this.deadLetters.length;
    for (const m of this.deadLetters.splice(0)) this.held.push({ ...m, attempts: 0 });
    return n;
  }
}
