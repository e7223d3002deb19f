import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/** One line of the SFTP ledger: a remote file version that was handed to the drop path. */
export interface LedgerEntry {
  path: string;
  size: number;
  mtime: number;
  sha256: string;
  /** The key it landed under in files/ (for a duplicate, the earlier landing's key). */
  landed_key: string | null;
  status: "landed" | "duplicate" | "refused";
  at: string;
  error?: string;
}

const versionKey = (path: string, size: number, mtime: number) => `${path}\n${size}\n${mtime}`;

/**
 * JSON lines, appended and fsynced after each landing. A version of a remote file (path, size,
 * mtime) in the ledger is never fetched again; a changed file is a new version. A version the
 * Worker refused is the exception: refusals read back at start are offered once more, so a file
 * refused for something an operator has since fixed (a size limit, a name rule) is not lost.
 */
export class SftpLedger {
  private seen = new Map<string, LedgerEntry>();
  /** Refused versions read back at start: not yet offered again by this process. */
  private readonly retryRefused = new Set<string>();

  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as LedgerEntry;
        const key = versionKey(entry.path, entry.size, entry.mtime);
        this.seen.set(key, entry);
        if (entry.status === "refused") this.retryRefused.add(key);
        else this.retryRefused.delete(key);
      } catch {
        // A torn last line from a crash mid-append: that landing is redone, and the Worker's sha256 check makes it a duplicate.
      }
    }
  }

  has(path: string, size: number, mtime: number): boolean {
    const key = versionKey(path, size, mtime);
    return this.seen.has(key) && !this.retryRefused.has(key);
  }

  entries(): LedgerEntry[] {
    return [...this.seen.values()];
  }

  record(entry: LedgerEntry): void {
    const fd = openSync(this.file, "a");
    try {
      appendFileSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const key = versionKey(entry.path, entry.size, entry.mtime);
    this.seen.set(key, entry);
    this.retryRefused.delete(key);
  }
}
