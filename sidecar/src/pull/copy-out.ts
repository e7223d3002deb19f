import type pg from "pg";

/**
 * Runs `COPY … TO STDOUT` on a pg client and hands each CopyData chunk to `onChunk` as it
 * arrives (pg has no COPY-out API of its own). The chunk is a view into pg's read buffer: use it
 * before returning, or copy it. `onChunk` may return a promise: reading pauses
 * until it settles, so a slow delivery holds the table read back instead of buffering it.
 */
export function copyOut(client: pg.Client, sql: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const socket = (client as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
  return new Promise((resolve, reject) => {
    let pending: Promise<void> = Promise.resolve();
    let failed: Error | null = null;
    const query = {
      submit(connection: { query(text: string): void }) {
        connection.query(sql);
      },
      handleCopyData(msg: { chunk: Buffer }) {
        const result = onChunk(msg.chunk);
        if (result && typeof (result as Promise<void>).then === "function") {
          socket.pause();
          pending = pending
            .then(() => result)
            .then(
              () => socket.resume(),
              (err: Error) => {
                failed ??= err;
                socket.resume();
              },
            );
        }
      },
      handleError(err: Error) {
        failed ??= err;
      },
      handleReadyForQuery() {
        pending.then(() => (failed ? reject(failed) : resolve()), reject);
      },
      handleCommandComplete() {},
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyInResponse() {},
    };
    client.query(query as unknown as pg.QueryConfig);
  });
}
