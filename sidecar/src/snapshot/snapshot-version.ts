/**
 * The `_dock.version` of a row copied by the initial snapshot or a backfill: `snapshot:<lsn>`, the
 * LSN the copy is consistent with. A change's version is a bare LSN (`0/16B3748`, `#n` after a
 * repeat): hex digits, `/` and `#`, never a `:`. So a copied row and a change to it never share an
 * id, even when the change's WAL record starts exactly at the copy's LSN (a row deleted as the slot
 * became consistent is in the copy, and its delete is the stream's first record). Rows of one copy re-sent
 * after a restart keep their version (the LSN is saved in the state file), so they dedupe.
 */
export function snapshotVersion(lsn: string): string {
  return `snapshot:${lsn}`;
}
