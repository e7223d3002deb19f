import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { Client, type ConnectConfig, type FileEntryWithStats, type SFTPWrapper } from "ssh2";
import { fingerprint, HostKeyMismatch, hostKeyVerifier } from "./host-key";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer | string;
  /** For an encrypted private key. */
  passphrase?: string;
  /** `SHA256:…` fingerprint or a public key line; required. */
  hostKey: string;
  readyTimeoutMs?: number;
}

export interface RemoteFile {
  path: string;
  name: string;
  size: number;
  /** Seconds since the epoch, as SFTP reports it. */
  mtime: number;
}

/** An open SFTP session: list, download, rename, close. One per poll. */
export class SftpSession {
  /** Set once the connection is gone: the poller opens a new session instead of reusing this one. */
  closed = false;

  private constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
  ) {
    client.on("close", () => {
      this.closed = true;
    });
    client.on("error", () => {
      this.closed = true;
    });
  }

  static async open(target: SshTarget): Promise<SftpSession> {
    const { verify, pinned } = hostKeyVerifier(target.hostKey);
    let offered: Buffer | null = null;
    const client = new Client();
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      ...(target.passphrase ? { passphrase: target.passphrase } : {}),
      readyTimeout: target.readyTimeoutMs ?? 15_000,
      hostVerifier: (key: Buffer) => {
        offered = key;
        return verify(key);
      },
    };
    const ready = new Promise<void>((resolve, reject) => {
      client.once("ready", resolve);
      client.once("error", reject);
      client.once("close", () => reject(new Error("connection closed before it was ready")));
    });
    client.connect(config);
    try {
      await ready;
    } catch (err) {
      client.end();
      if (offered && !verify(offered)) {
        throw new HostKeyMismatch(`host key mismatch for ${target.host}:${target.port}: offered ${fingerprint(offered)}, pinned ${pinned}`);
      }
      throw err;
    }
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    return new SftpSession(client, sftp);
  }

  async list(dir: string): Promise<RemoteFile[]> {
    const entries = await new Promise<FileEntryWithStats[]>((resolve, reject) =>
      this.sftp.readdir(dir, (err, list) => (err ? reject(err) : resolve(list))),
    );
    return entries
      .filter((e) => e.attrs.isFile())
      .map((e) => ({ path: `${dir.replace(/\/$/, "")}/${e.filename}`, name: e.filename, size: e.attrs.size, mtime: e.attrs.mtime }));
  }

  /**
   * Downloads to `localPath` while hashing. Anything short of exactly `expectedSize` bytes (a
   * dropped connection, a file still changing) removes the partial copy and throws.
   */
  async download(remotePath: string, localPath: string, expectedSize: number): Promise<{ sha256: string; size: number }> {
    const hash = createHash("sha256");
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const source = this.sftp.createReadStream(remotePath);
    const sink = createWriteStream(localPath);
    // A connection that drops mid-transfer closes the client but does not always end the stream.
    let onClose = () => {};
    const dropped = new Promise<never>((_, reject) => {
      onClose = () => reject(new Error("connection closed during download"));
      this.client.once("close", onClose);
    });
    dropped.catch(() => undefined);
    try {
      await Promise.race([pipeline(source, counter, sink), dropped]);
      if (size !== expectedSize) throw new Error(`downloaded ${size} bytes of ${remotePath}, expected ${expectedSize}`);
      return { sha256: hash.digest("hex"), size };
    } catch (err) {
      source.destroy();
      sink.destroy();
      await rm(localPath, { force: true });
      throw err;
    } finally {
      this.client.removeListener("close", onClose);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.sftp.rename(from, to, (err) => (err ? reject(err) : resolve())));
  }

  async mkdir(dir: string): Promise<void> {
    await new Promise<void>((resolve) => this.sftp.mkdir(dir, () => resolve()));
  }

  close(): void {
    this.client.end();
  }
}
