/** A Postgres LSN is a 64-bit WAL position, written `XXXXXXXX/XXXXXXXX` (two hex halves). */
export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  const n = Number(lsn);
  // Below 2^53 plain number arithmetic is exact and much cheaper than BigInt shifts.
  if (Number.isSafeInteger(n))
    return `${Math.floor(n / 4294967296)
      .toString(16)
      .toUpperCase()}/${(n % 4294967296).toString(16).toUpperCase()}`;
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}
