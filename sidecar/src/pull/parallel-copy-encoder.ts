import { readFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { StreamRecords } from "../delivery/bundle-pack";
import { ByteWriter } from "../delivery/byte-writer";
import type { CopyRowEncoderOptions } from "./copy-row-encoder";
import { threadScript } from "./thread-script";

/** To a thread: complete COPY rows (`input[0, length)`) and, when there is one, a buffer to write into. */
export interface EncodeRequest {
  seq: number;
  input: ArrayBuffer;
  length: number;
  output: ArrayBuffer | null;
}

/** From a thread: the records of a request (or why it failed), and the input buffer back. */
export interface EncodeResult {
  seq: number;
  rows?: number;
  output?: ArrayBuffer;
  pos?: number;
  ends?: ArrayBuffer;
  error?: string;
  input: ArrayBuffer;
}

const NEWLINE = 0x0a;
const THREAD = new URL("./copy-encode-thread.ts", import.meta.url);
/** Set by sidecar/build.mjs: the thread's prebuilt bundle, next to the built entry point. */
declare const DOCK_BUILT_THREAD_SCRIPT: string | undefined;

/**
 * Encodes COPY rows into delivery records on worker threads, so that reading the table (this
 * thread) and encoding (the others) use more than one core. Rows are handed over in batches of
 * about `batchRows`; batches come back to `onBatch` in the order they were read, which is what
 * numbers snapshot parts consecutively. Buffers travel between the threads instead of being
 * copied: an input buffer comes back with its result, an output buffer is handed back through
 * `recycle` once its delivery is answered. The threads run their code bundled (see threadScript; the built sidecar ships the bundle).
 */
export class ParallelCopyEncoder {
  private readonly workers: Worker[];
  private input = new ByteWriter(4 * 1024 * 1024);
  private inputRows = 0;
  private nextSeq = 0;
  private nextOut = 0;
  private readonly done = new Map<number, EncodeResult>();
  private readonly spareInputs: ArrayBuffer[] = [];
  private readonly spareOutputs: ArrayBuffer[] = [];
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];
  private pending = 0;

  /** The threads' code: `start` waits for it, so it can be begun early (it may need bundling). */
  static script(): Promise<string> {
    if (typeof DOCK_BUILT_THREAD_SCRIPT === "string") return readFile(new URL(DOCK_BUILT_THREAD_SCRIPT, import.meta.url), "utf8");
    return threadScript(THREAD);
  }

  static async start(
    opts: Omit<CopyRowEncoderOptions, "receivedAt">,
    threads: number,
    batchRows: number,
    maxPending: number,
    onBatch: (records: StreamRecords, rows: number) => void,
    script: Promise<string> = ParallelCopyEncoder.script(),
  ): Promise<ParallelCopyEncoder> {
    return new ParallelCopyEncoder(await script, opts, threads, batchRows, maxPending, onBatch);
  }

  private constructor(
    script: string,
    opts: Omit<CopyRowEncoderOptions, "receivedAt">,
    threads: number,
    private readonly batchRows: number,
    private readonly maxPending: number,
    private readonly onBatch: (records: StreamRecords, rows: number) => void,
  ) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const w = new Worker(script, { eval: true, execArgv: [], workerData: opts }); // plain JS: no loader
      w.on("message", (r: EncodeResult) => this.received(r));
      w.on("error", (err) => this.fail(err));
      return w;
    });
  }

  /** Copies a chunk of COPY output in; returns a promise when the caller should wait before the next. */
  push(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    this.input.bytes(chunk);
    for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) this.inputRows++;
    if (this.inputRows >= this.batchRows) this.dispatch(false);
    if (this.pending >= this.maxPending) return this.waitBelow(this.maxPending);
  }

  /** Sends what is left (a last row may lack its newline) and waits until every batch went to `onBatch`. */
  async end(): Promise<void> {
    this.dispatch(true);
    await this.waitBelow(1);
    if (this.failure) throw this.failure;
  }

  /** A batch was answered: its pending slot frees and its buffer goes back to the threads. */
  recycle(records: StreamRecords): void {
    this.spareOutputs.push(records.w.buf.buffer as ArrayBuffer);
    this.pending--;
    this.wake();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(all: boolean): void {
    const used = this.input.pos;
    if (used === 0) return;
    const cut = all ? used : this.input.buf.lastIndexOf(NEWLINE, used - 1) + 1;
    if (cut === 0) return;
    const full = this.input;
    this.input = ByteWriter.over(this.spareInput(Math.max(full.buf.length, used - cut)), 0);
    this.input.range(full.buf, cut, used);
    this.inputRows = 0;
    const seq = this.nextSeq++;
    const output = this.spareOutputs.pop() ?? null;
    const request: EncodeRequest = { seq, input: full.buf.buffer as ArrayBuffer, length: cut, output };
    this.pending++;
    (this.workers[seq % this.workers.length] as Worker).postMessage(request, output ? [request.input, output] : [request.input]);
  }

  private spareInput(size: number): Buffer {
    const b = this.spareInputs.pop();
    return b && b.byteLength >= size ? Buffer.from(b) : Buffer.allocUnsafeSlow(size);
  }

  private received(r: EncodeResult): void {
    this.spareInputs.push(r.input);
    if (r.error !== undefined) {
      this.fail(new Error(r.error));
      return;
    }
    this.done.set(r.seq, r);
    for (let next = this.done.get(this.nextOut); next; next = this.done.get(this.nextOut)) {
      this.done.delete(this.nextOut++);
      const records = StreamRecords.over(
        Buffer.from(next.output as ArrayBuffer),
        next.pos as number,
        new Int32Array(next.ends as ArrayBuffer),
      );
      if (records.count === 0) this.recycle(records);
      else this.onBatch(records, next.rows as number);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private waitBelow(limit: number): Promise<void> {
    if (this.pending < limit || this.failure) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push(() => {
        if (this.failure) reject(this.failure);
        else if (this.pending < limit) resolve();
        else this.waitBelow(limit).then(resolve, reject);
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
