import pg from "pg";
import { formatLsn } from "../lsn";
import { quoteIdent, quoteLiteral } from "./sql-quote";

export interface PgConnectionConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

type ChunkHandler = (chunk: Buffer) => void;

/**
 * The copy-both phase of START_REPLICATION as a pg "submittable": pg hands us every CopyData
 * chunk, and the promise settles when the server ends the stream (or fails it).
 */
class CopyBothQuery {
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  private error: Error | null = null;
  constructor(
    readonly text: string,
    private readonly onChunk: ChunkHandler,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }
  submit(connection: { query: (text: string) => void }): void {
    connection.query(this.text);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    try {
      this.onChunk(msg.chunk);
    } catch (err) {
      this.error ??= err as Error;
    }
  }
  handleError(err: Error): void {
    this.settle.reject(err);
  }
  handleReadyForQuery(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

/** A `replication=database` connection: runs replication commands and streams one slot. */
export class ReplicationConnection {
  readonly client: pg.Client;
  private query: CopyBothQuery | null = null;
  private paused = false;

  constructor(config: PgConnectionConfig) {
    this.client = new pg.Client({ ...config, replication: "database" } as pg.ClientConfig);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Runs a replication command that answers with rows (IDENTIFY_SYSTEM, CREATE_REPLICATION_SLOT …). */
  async command(text: string): Promise<Record<string, string | null>[]> {
    const result = await this.client.query({ text, rowMode: undefined } as pg.QueryConfig);
    return result.rows as Record<string, string | null>[];
  }

  /**
   * Starts streaming `slot` from `startLsn` (0 lets the server resume at confirmed_flush_lsn).
   * Resolves when the server ends the stream; rejects on a server error (e.g. an invalidated slot).
   */
  start(slot: string, publication: string, startLsn: bigint, onChunk: ChunkHandler): Promise<void> {
    const options = `proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}, messages 'true'`;
    const text = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} (${options})`;
    const query = new CopyBothQuery(text, onChunk);
    this.query = query;
    this.client.query(query as unknown as pg.QueryConfig);
    return query.done;
  }

  get streamDone(): Promise<void> {
    if (!this.query) throw new Error("replication not started");
    return this.query.done;
  }

  send(message: Buffer): void {
    (this.client as unknown as { connection: { sendCopyFromChunk(b: Buffer): void } }).connection.sendCopyFromChunk(message);
  }

  /** Stops reading the socket: the server's send buffer fills and the walsender waits. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket().pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket().resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Ends the copy stream politely (CopyDone); the server answers and the stream promise settles. */
  endCopy(): void {
    (this.client as unknown as { connection: { endCopyFrom(): void } }).connection.endCopyFrom();
  }

  async close(): Promise<void> {
    this.resume();
    await this.client.end().catch(() => {});
  }

  private socket(): { pause(): void; resume(): void } {
    return (this.client as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
  }
}
