import { hash } from "node:crypto";

/**
 * A polled row's version: the cursor column's text plus 16 hex digits of sha256 over the row's
 * `data` JSON (`<cursor>|<digest>`), the format the Worker's pollers use. The cursor value alone
 * can repeat for different content (two updates within the clock's resolution, or a writer that
 * does not touch the column), and two states under one version share a `_dock.id`: dedupe keeps
 * the first and drops the second. The same row bytes keep the same version, so a row seen again
 * through the overlap window still dedupes.
 */
export function rowVersion(cursorText: string, dataJson: string): string {
  return `${cursorText}|${hash("sha256", dataJson, "hex").slice(0, 16)}`;
}
