import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type DropTarget, putDrop } from "./deliver";
import { SftpLedger } from "./ledger";
import { errorText, log } from "./log";
import { DEFAULT_RETRY, PermanentError, type RetryPolicy, withRetry } from "./retry";
import { type RemoteFile, SftpSession, type SshTarget } from "./sftp-session";

export interface SftpPollerConfig {
  target: SshTarget;
  remoteDir: string;
  /** When set, a landed file is moved here on the partner's side. */
  archiveDir?: string;
  drop: DropTarget;
  ledgerPath: string;
  /** Local directory for downloads in progress (removed after each file), one per poller. */
  stagingDir: string;
  retry?: RetryPolicy;
}

export interface PollReport {
  listed: number;
  /** Seen for the first time or still changing: picked up once two polls agree. */
  waiting: string[];
  landed: { path: string; key: string; status: "landed" | "duplicate" }[];
  refused: { path: string; error: string }[];
  failed: { path: string; error: string }[];
}

const DOWNLOAD_SUFFIX = ".download";

/** Uploads in progress by common conventions: hidden files and .part/.tmp/.filepart names. */
export function isInProgressName(name: string): boolean {
  return name.startsWith(".") || /\.(part|partial|tmp|filepart|crdownload)$/i.test(name);
}

/**
 * Polls a partner's SFTP directory. A file is fetched only once its size and mtime are the same
 * in two polls in a row; it is downloaded whole and hashed, handed to the Worker's drop route, and
 * only then written to the ledger (and optionally archived on the partner's side). A crash between
 * the drop and the ledger redoes the drop, which the Worker answers as a duplicate.
 */
export class SftpPoller {
  private readonly ledger: SftpLedger;
  private readonly observed = new Map<string, { size: number; mtime: number }>();
  private session: SftpSession | null = null;
  private readonly retry: RetryPolicy;

  constructor(private readonly config: SftpPollerConfig) {
    this.ledger = new SftpLedger(config.ledgerPath);
    this.retry = config.retry ?? DEFAULT_RETRY;
    mkdirSync(config.stagingDir, { recursive: true });
    this.removePartialDownloads();
  }

  /**
   * A poller killed mid-download (SIGKILL, power loss) leaves its `.download` file behind; nothing
   * else would ever remove it. The staging directory is this poller's alone, so at start every
   * `.download` in it is a leftover. Other files are left alone.
   */
  private removePartialDownloads(): void {
    for (const name of readdirSync(this.config.stagingDir)) {
      if (!name.endsWith(DOWNLOAD_SUFFIX)) continue;
      rmSync(join(this.config.stagingDir, name), { force: true });
      log("warn", { event: "sftp.partial_removed", source: this.config.drop.source, path: name });
    }
  }

  ledgerEntries() {
    return this.ledger.entries();
  }

  async pollOnce(): Promise<PollReport> {
    const report: PollReport = { listed: 0, waiting: [], landed: [], refused: [], failed: [] };
    try {
      const files = await withRetry(
        "list",
        this.retry,
        async () => (await this.connected()).list(this.config.remoteDir),
        this.onRetry("list"),
      );
      report.listed = files.length;
      const stable: RemoteFile[] = [];
      const present = new Set<string>();
      for (const f of files) {
        if (isInProgressName(f.name) || this.ledger.has(f.path, f.size, f.mtime)) continue;
        present.add(f.path);
        const before = this.observed.get(f.path);
        if (before && before.size === f.size && before.mtime === f.mtime) stable.push(f);
        else report.waiting.push(f.path);
        this.observed.set(f.path, { size: f.size, mtime: f.mtime });
      }
      for (const path of this.observed.keys()) if (!present.has(path)) this.observed.delete(path);
      for (const file of stable) await this.land(file, report);
    } finally {
      this.close();
    }
    return report;
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }

  private async connected(): Promise<SftpSession> {
    if (!this.session || this.session.closed) {
      this.session?.close();
      this.session = await SftpSession.open(this.config.target);
    }
    return this.session;
  }

  private onRetry(what: string) {
    return (attempt: number, err: unknown, waitMs: number) => {
      if (this.session?.closed) this.session = null;
      log("warn", { event: `sftp.${what}_retry`, source: this.config.drop.source, error: errorText(err), attempt, wait_ms: waitMs });
    };
  }

  private async land(file: RemoteFile, report: PollReport): Promise<void> {
    const local = join(this.config.stagingDir, `${randomUUID()}${DOWNLOAD_SUFFIX}`);
    const source = this.config.drop.source;
    try {
      const { sha256 } = await withRetry(
        "download",
        this.retry,
        async () => (await this.connected()).download(file.path, local, file.size),
        this.onRetry("download"),
      );
      const answer = await withRetry(
        "drop",
        this.retry,
        () => putDrop(this.config.drop, file.name, local, file.size, sha256),
        this.onRetry("drop"),
      );
      this.ledger.record({
        path: file.path,
        size: file.size,
        mtime: file.mtime,
        sha256,
        landed_key: answer.key,
        status: answer.status,
        at: new Date().toISOString(),
      });
      report.landed.push({ path: file.path, key: answer.key, status: answer.status });
      log("info", { event: `sftp.${answer.status}`, source, path: file.path, key: answer.key, bytes: file.size });
      if (this.config.archiveDir) await this.archive(file);
    } catch (err) {
      const error = errorText(err);
      if (err instanceof PermanentError) {
        this.ledger.record({
          path: file.path,
          size: file.size,
          mtime: file.mtime,
          sha256: "",
          landed_key: null,
          status: "refused",
          at: new Date().toISOString(),
          error,
        });
        report.refused.push({ path: file.path, error });
        log("error", { event: "sftp.refused", source, path: file.path, error });
      } else {
        // Not in the ledger: the file is tried again once it is seen stable again.
        this.observed.delete(file.path);
        report.failed.push({ path: file.path, error });
        log("error", { event: "sftp.failed", source, path: file.path, error });
      }
    } finally {
      await rm(local, { force: true });
    }
  }

  private async archive(file: RemoteFile): Promise<void> {
    const dir = this.config.archiveDir as string;
    try {
      const session = await this.connected();
      await session.mkdir(dir);
      await session.rename(file.path, `${dir.replace(/\/$/, "")}/${file.name}`);
    } catch (err) {
      // The ledger already holds the file, so a failed move never causes a second landing.
      log("warn", { event: "sftp.archive_failed", source: this.config.drop.source, path: file.path, error: errorText(err) });
    }
  }
}

export { PermanentError };
