/** The streaming-replication messages carried in CopyData (see "Streaming Replication Protocol"). */

export type ServerCopyMessage =
  | { kind: "xlog"; walStart: bigint; walEnd: bigint; sendTime: bigint; payload: Buffer }
  | { kind: "keepalive"; walEnd: bigint; sendTime: bigint; replyRequested: boolean };

export function parseServerCopyData(chunk: Buffer): ServerCopyMessage {
  const tag = chunk[0];
  if (tag === 0x77 /* w */) {
    if (chunk.length < 25) throw new Error("XLogData shorter than its header");
    return {
      kind: "xlog",
      walStart: chunk.readBigUInt64BE(1),
      walEnd: chunk.readBigUInt64BE(9),
      sendTime: chunk.readBigInt64BE(17),
      payload: chunk.subarray(25),
    };
  }
  if (tag === 0x6b /* k */) {
    if (chunk.length < 18) throw new Error("keepalive shorter than 18 bytes");
    return { kind: "keepalive", walEnd: chunk.readBigUInt64BE(1), sendTime: chunk.readBigInt64BE(9), replyRequested: chunk[17] === 1 };
  }
  throw new Error(`unknown replication message 0x${(tag ?? 0).toString(16)}`);
}

const PG_EPOCH_US = 946_684_800_000_000n;

/**
 * Standby Status Update ('r'). We report the same durable position as written, flushed and
 * applied: the server uses flush as the slot's confirmed_flush_lsn.
 */
export function standbyStatusUpdate(durable: bigint, replyRequested = false): Buffer {
  const buf = Buffer.alloc(34);
  buf[0] = 0x72;
  buf.writeBigUInt64BE(durable, 1);
  buf.writeBigUInt64BE(durable, 9);
  buf.writeBigUInt64BE(durable, 17);
  buf.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_US, 25);
  buf[33] = replyRequested ? 1 : 0;
  return buf;
}
