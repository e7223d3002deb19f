import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server, type Socket, connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

const SSHD = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"].find((p) => existsSync(p));

export interface SshdServer {
  port: number;
  username: string;
  /** The user's private key (OpenSSH format) and the server's public host key line. */
  userKey: Buffer;
  hostKeyLine: string;
  /** A directory the SFTP user may read and write: the partner's side. */
  remoteDir: string;
  stderr: () => string;
  stop: () => Promise<void>;
}

const TEST_USER = "dock-sftp-test";

/**
 * When the tests run as root (CI containers), sshd runs as this user. `nobody` will not do: its
 * shadow entry is `*`, which sshd without PAM reads as a locked account. The password field `NP`
 * matches no password, so the account takes keys only.
 */
function ensureTestUser(): void {
  try {
    execFileSync("id", ["-u", TEST_USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", [
      "--system",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/bin/sh",
      "--password",
      "NP",
      TEST_USER,
    ]);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/**
 * A real OpenSSH server on a loopback port, started from Debian's `sshd` with a generated host
 * key and user key, `internal-sftp`, no PAM. It runs unprivileged: as the current user, or, when
 * the tests run as root, as a system user made for it (sshd then serves only that same user). A
 * missing sshd is a failure, never a skip: install `openssh-server`.
 */
export async function startSshd(): Promise<SshdServer> {
  if (!SSHD)
    throw new Error(
      "sshd not found: install openssh-server (apt-get install -y openssh-server); the SFTP tests need a real OpenSSH server",
    );
  const dir = mkdtempSync(join(tmpdir(), "dock-sshd-"));
  chmodSync(dir, 0o755);
  const keygen = (name: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
  keygen("host_ed25519");
  keygen("user_ed25519");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "user_ed25519.pub")));
  const remoteDir = join(dir, "remote");
  mkdirSync(join(remoteDir, "inbox"), { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_ed25519")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) ensureTestUser();
  const uid = asRoot ? Number(execFileSync("id", ["-u", TEST_USER]).toString().trim()) : undefined;
  const gid = asRoot ? Number(execFileSync("id", ["-g", TEST_USER]).toString().trim()) : undefined;
  if (asRoot) chownTree(dir, uid as number, gid as number);
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
    ...(asRoot ? { uid, gid } : {}),
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!/Server listening/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    username: asRoot ? TEST_USER : userInfo().username,
    userKey: readFileSync(join(dir, "user_ed25519")),
    hostKeyLine: readFileSync(join(dir, "host_ed25519.pub"), "utf8").trim(),
    remoteDir: join(remoteDir, "inbox"),
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay in front of sshd that can cut the next connection after a number of bytes sent to
 * the client, or stall every connection from now on there (stop forwarding, keep it open: a
 * transfer that hangs).
 */
export async function startRelay(targetPort: number): Promise<{
  port: number;
  cutNextAfter: (bytes: number) => void;
  stallEachAfter: (bytes: number) => void;
  connections: () => number;
  stop: () => Promise<void>;
}> {
  let cutAfter: number | null = null;
  let stallAfter: number | null = null;
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    count++;
    const stall = cutAfter === null && stallAfter !== null;
    const limit = cutAfter ?? stallAfter;
    cutAfter = null;
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    upstream.on("data", (chunk: Buffer) => {
      sent += chunk.length;
      if (limit !== null && sent > limit) {
        if (stall) return;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("close", () => b.destroy());
      a.on("error", () => b.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    cutNextAfter: (bytes) => {
      cutAfter = bytes;
    },
    stallEachAfter: (bytes) => {
      stallAfter = bytes;
    },
    connections: () => count,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
