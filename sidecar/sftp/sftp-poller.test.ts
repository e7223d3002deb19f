import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fingerprint, HostKeyMismatch } from "./host-key";
import { SftpPoller, type SftpPollerConfig } from "./poller";
import { startDropSink } from "./testing/drop-sink";
import { type SshdServer, startRelay, startSshd } from "./testing/sshd-server";

const TOKEN = "partner-files-token-abcdef";
const FAST = { attempts: 5, baseMs: 20, capMs: 200 };

let sshd: SshdServer;
let sink: Awaited<ReturnType<typeof startDropSink>>;
let local: string;
const pollers: SftpPoller[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  sink = await startDropSink(TOKEN);
});
afterAll(async () => {
  await sink?.stop();
  await sshd?.stop();
});
afterEach(() => {
  for (const p of pollers.splice(0)) p.close();
  for (const f of readdirSync(sshd.remoteDir)) rmSync(join(sshd.remoteDir, f), { recursive: true, force: true });
  sink.received.length = 0;
  sink.tooLarge.clear();
});

function poller(over: Partial<SftpPollerConfig> = {}, port = sshd.port): SftpPoller {
  local = mkdtempSync(join(tmpdir(), "dock-sftp-local-"));
  const p = new SftpPoller({
    target: { host: "127.0.0.1", port, username: sshd.username, privateKey: sshd.userKey, hostKey: sshd.hostKeyLine },
    remoteDir: sshd.remoteDir,
    drop: { baseUrl: sink.url, source: "partner", token: TOKEN },
    ledgerPath: join(local, "ledger.jsonl"),
    stagingDir: join(local, "staging"),
    retry: FAST,
    ...over,
  });
  pollers.push(p);
  return p;
}

/** Partner-side writes go through the filesystem the SFTP server serves; mtime is set explicitly (SFTP has 1 s resolution). */
function partnerWrites(name: string, data: Buffer | string, mtime: number, append = false): string {
  const path = join(sshd.remoteDir, name);
  if (append) appendFileSync(path, data);
  else writeFileSync(path, data);
  utimesSync(path, mtime, mtime);
  return path;
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("partner SFTP poller against a real OpenSSH server", () => {
  it("given a new file, when two polls see it unchanged, then it lands once, is archived, and later polls leave it alone", async () => {
    const csv = "id,amount\n1,10\n2,20\n";
    partnerWrites("payouts_2026-11-25.csv", csv, 1_764_000_000);
    const p = poller({ archiveDir: join(sshd.remoteDir, "archive") });

    const first = await p.pollOnce();
    expect(first.waiting).toEqual([join(sshd.remoteDir, "payouts_2026-11-25.csv")]);
    expect(sink.received).toHaveLength(0);

    const second = await p.pollOnce();
    expect(second.landed).toEqual([
      { path: join(sshd.remoteDir, "payouts_2026-11-25.csv"), key: expect.stringContaining("payouts_2026-11-25.csv"), status: "landed" },
    ]);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]).toMatchObject({
      source: "partner",
      name: "payouts_2026-11-25.csv",
      authorization: `Bearer ${TOKEN}`,
      sha256: sha(csv),
    });
    expect(sink.received[0]?.body.toString()).toBe(csv);
    expect(existsSync(join(sshd.remoteDir, "archive", "payouts_2026-11-25.csv"))).toBe(true);
    expect(existsSync(join(sshd.remoteDir, "payouts_2026-11-25.csv"))).toBe(false);

    await p.pollOnce();
    await p.pollOnce();
    expect(sink.received).toHaveLength(1);
    expect(p.ledgerEntries()).toEqual([
      expect.objectContaining({
        path: join(sshd.remoteDir, "payouts_2026-11-25.csv"),
        size: csv.length,
        mtime: 1_764_000_000,
        sha256: sha(csv),
        status: "landed",
      }),
    ]);
    expect(readdirSync(join(local, "staging"))).toEqual([]);
  });

  it("given a landed file left in place, when the poller restarts with its ledger, then it is not fetched again; when the partner replaces it, the new version lands", async () => {
    partnerWrites("stock.csv", "sku,qty\nA,1\n", 1_764_000_100);
    const ledgerDir = mkdtempSync(join(tmpdir(), "dock-sftp-ledger-"));
    const config = { ledgerPath: join(ledgerDir, "ledger.jsonl") };
    const p1 = poller(config);
    await p1.pollOnce();
    await p1.pollOnce();
    expect(sink.received).toHaveLength(1);

    const p2 = poller(config);
    await p2.pollOnce();
    await p2.pollOnce();
    expect(sink.received).toHaveLength(1);

    partnerWrites("stock.csv", "sku,qty\nA,2\n", 1_764_000_200);
    await p2.pollOnce();
    await p2.pollOnce();
    expect(sink.received.map((r) => r.body.toString())).toEqual(["sku,qty\nA,1\n", "sku,qty\nA,2\n"]);
  });

  it("given a file still growing, then it is not picked up until its size and mtime hold across two polls, and the landed bytes are the final file", async () => {
    partnerWrites("growing.csv", "id\n1\n", 1_764_000_300);
    const p = poller();
    expect((await p.pollOnce()).waiting).toHaveLength(1);
    partnerWrites("growing.csv", "2\n", 1_764_000_301, true);
    const second = await p.pollOnce();
    expect(second.waiting).toHaveLength(1);
    expect(second.landed).toEqual([]);
    partnerWrites("growing.csv", "3\n", 1_764_000_302, true);
    expect((await p.pollOnce()).landed).toEqual([]);
    const fourth = await p.pollOnce();
    expect(fourth.landed).toHaveLength(1);
    expect(sink.received.map((r) => r.body.toString())).toEqual(["id\n1\n2\n3\n"]);
  });

  it("given uploads in progress by name (.part, hidden), then they are never picked up", async () => {
    partnerWrites("orders.csv.part", "id\n1\n", 1_764_000_400);
    partnerWrites(".orders.csv", "id\n1\n", 1_764_000_400);
    const p = poller();
    await p.pollOnce();
    await p.pollOnce();
    expect(sink.received).toHaveLength(0);
  });

  it("given a host key other than the pinned one, then the poll fails with a host key mismatch and nothing is fetched", async () => {
    partnerWrites("secret.csv", "id\n1\n", 1_764_000_500);
    const otherKey = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), randomBytes(32)]).toString("base64")}`;
    const p = poller({
      target: { host: "127.0.0.1", port: sshd.port, username: sshd.username, privateKey: sshd.userKey, hostKey: otherKey },
    });
    await expect(p.pollOnce()).rejects.toThrow(HostKeyMismatch);
    await expect(p.pollOnce()).rejects.toThrow(/host key mismatch .* pinned SHA256:/);
    expect(sink.received).toHaveLength(0);

    const unpinned = poller({
      target: { host: "127.0.0.1", port: sshd.port, username: sshd.username, privateKey: sshd.userKey, hostKey: "" },
    });
    await expect(unpinned.pollOnce()).rejects.toThrow(/no pinned host key/);
  });

  it("given the pin as an OpenSSH SHA256 fingerprint, then the server is accepted", async () => {
    const blob = Buffer.from(sshd.hostKeyLine.split(" ")[1] as string, "base64");
    partnerWrites("fp.csv", "id\n1\n", 1_764_000_600);
    const p = poller({
      target: { host: "127.0.0.1", port: sshd.port, username: sshd.username, privateKey: sshd.userKey, hostKey: fingerprint(blob) },
    });
    expect((await p.pollOnce()).listed).toBe(1);
  });

  it("given the connection drops in the middle of a download, then it is retried on a new connection and the file lands once, whole", async () => {
    const big = randomBytes(4 * 1024 * 1024);
    partnerWrites("large.bin.csv", big, 1_764_000_700);
    const relay = await startRelay(sshd.port);
    try {
      const p = poller({}, relay.port);
      await p.pollOnce();
      relay.cutNextAfter(1024 * 1024);
      const report = await p.pollOnce();
      expect(report.failed).toEqual([]);
      expect(report.landed).toHaveLength(1);
      expect(relay.connections()).toBeGreaterThanOrEqual(3);
      expect(sink.received).toHaveLength(1);
      expect(sink.received[0]?.sha256).toBe(sha(big));
      expect(sink.received[0]?.body.length).toBe(big.length);
      expect(readdirSync(join(local, "staging"))).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it("given the drop route answers 503 twice, then the file is delivered after jittered retries, once", async () => {
    partnerWrites("retry.csv", "id\n1\n", 1_764_000_800);
    const p = poller();
    await p.pollOnce();
    sink.failNext(2);
    const report = await p.pollOnce();
    expect(report.landed).toHaveLength(1);
    expect(sink.received).toHaveLength(1);
  });

  it("given the drop route refuses the file (4xx), then it is recorded as refused and not offered again", async () => {
    partnerWrites("bad..name.csv", "id\n1\n", 1_764_000_900);
    const p = poller();
    await p.pollOnce();
    const report = await p.pollOnce();
    expect(report.refused).toEqual([{ path: join(sshd.remoteDir, "bad..name.csv"), error: expect.stringContaining("400") }]);
    await p.pollOnce();
    await p.pollOnce();
    expect(p.ledgerEntries()).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(sink.received).toHaveLength(0);
  });

  it("given a file whose name is not ASCII, when it is stable, then it lands under its real name (the key percent-encoded) instead of being refused", async () => {
    const name = "Überweisungen März €_2026-11-25.csv";
    partnerWrites(name, "id,betrag\n1,€5\n", 1_764_001_100);
    const p = poller();
    await p.pollOnce();
    const report = await p.pollOnce();
    expect(report.refused).toEqual([]);
    expect(report.landed).toEqual([
      {
        path: join(sshd.remoteDir, name),
        key: "files/source=partner/2026-11-25/%C3%9Cberweisungen M%C3%A4rz %E2%82%AC_2026-11-25.csv",
        status: "landed",
      },
    ]);
    expect(sink.received.map((r) => [r.name, r.body.toString()])).toEqual([[name, "id,betrag\n1,€5\n"]]);
    expect(p.ledgerEntries()).toEqual([expect.objectContaining({ path: join(sshd.remoteDir, name), status: "landed" })]);
  });

  it("given a file the Worker refused, when the poller restarts after the operator fixed the cause, then it is offered once more and lands", async () => {
    partnerWrites("huge.csv", "id\nhuge\n", 1_764_001_200);
    partnerWrites("fine.csv", "id\nfine\n", 1_764_001_200);
    sink.tooLarge.add("huge.csv");
    const ledgerDir = mkdtempSync(join(tmpdir(), "dock-sftp-ledger-"));
    const config = { ledgerPath: join(ledgerDir, "ledger.jsonl") };
    const p1 = poller(config);
    await p1.pollOnce();
    const first = await p1.pollOnce();
    expect(first.refused).toEqual([{ path: join(sshd.remoteDir, "huge.csv"), error: expect.stringContaining("413") }]);
    await p1.pollOnce();
    await p1.pollOnce();
    expect(sink.received.map((r) => r.name)).toEqual(["fine.csv"]);

    sink.tooLarge.clear(); // the operator raised the limit
    const p2 = poller(config);
    await p2.pollOnce();
    const after = await p2.pollOnce();
    expect(after.landed).toEqual([{ path: join(sshd.remoteDir, "huge.csv"), key: expect.stringContaining("huge.csv"), status: "landed" }]);
    await p2.pollOnce();
    expect(sink.received.map((r) => r.name)).toEqual(["fine.csv", "huge.csv"]);
    expect(
      p2
        .ledgerEntries()
        .map((e) => [e.path.split("/").at(-1), e.status])
        .sort(),
    ).toEqual([
      ["fine.csv", "landed"],
      ["huge.csv", "landed"],
    ]);
  });

  it("given the drop route rejects our token (401), then no file is marked refused, and they land once the token is fixed", async () => {
    partnerWrites("tokened.csv", "id\ntokened\n", 1_764_001_300);
    const ledgerDir = mkdtempSync(join(tmpdir(), "dock-sftp-ledger-"));
    const wrong = poller({
      ledgerPath: join(ledgerDir, "ledger.jsonl"),
      drop: { baseUrl: sink.url, source: "partner", token: "stale-token" },
    });
    await wrong.pollOnce();
    const report = await wrong.pollOnce();
    expect(report.refused).toEqual([]);
    expect(report.failed).toEqual([{ path: join(sshd.remoteDir, "tokened.csv"), error: expect.stringMatching(/401.*SFTP_FILES_TOKEN/s) }]);
    expect(wrong.ledgerEntries()).toEqual([]);

    const fixed = poller({ ledgerPath: join(ledgerDir, "ledger.jsonl") });
    await fixed.pollOnce();
    expect((await fixed.pollOnce()).landed).toHaveLength(1);
    expect(sink.received.map((r) => r.name)).toEqual(["tokened.csv"]);
  });

  it("given a poller killed with SIGKILL in the middle of a download, when it starts again, then the partial download is removed and the file lands once, whole", async () => {
    const big = randomBytes(8 * 1024 * 1024);
    partnerWrites("killed.bin.csv", big, 1_764_001_400);
    const relay = await startRelay(sshd.port);
    const dir = mkdtempSync(join(tmpdir(), "dock-sftp-killed-"));
    const staging = join(dir, "staging");
    mkdirSync(staging);
    writeFileSync(join(staging, "operator-notes.txt"), "not ours");
    writeFileSync(join(dir, "id_test"), sshd.userKey);
    // Every connection hangs after 1 MiB: the listing passes, the download stops part-way.
    relay.stallEachAfter(1024 * 1024);
    const root = resolve(import.meta.dirname, "../..");
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "sidecar/sftp/main.ts")], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        SFTP_HOST: "127.0.0.1",
        SFTP_PORT: String(relay.port),
        SFTP_USERNAME: sshd.username,
        SFTP_PRIVATE_KEY_PATH: join(dir, "id_test"),
        SFTP_HOST_KEY: sshd.hostKeyLine,
        SFTP_REMOTE_DIR: sshd.remoteDir,
        DOCK_URL: sink.url,
        SFTP_SOURCE: "partner",
        SFTP_FILES_TOKEN: TOKEN,
        SFTP_POLL_SECONDS: "0",
        SFTP_LEDGER_PATH: join(dir, "ledger.jsonl"),
        SFTP_STAGING_DIR: staging,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      const partials = () => readdirSync(staging).filter((f) => f.endsWith(".download"));
      const deadline = Date.now() + 30_000;
      while (!(partials().length === 1 && statSync(join(staging, partials()[0] as string)).size > 0)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no partial download appeared:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGKILL");
      await exited;
      const [partial] = partials();
      expect(statSync(join(staging, partial as string)).size).toBeLessThan(big.length);
      expect(sink.received).toHaveLength(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await relay.stop();
    }

    const restarted = poller({ ledgerPath: join(dir, "ledger.jsonl"), stagingDir: staging });
    expect(readdirSync(staging)).toEqual(["operator-notes.txt"]);
    await restarted.pollOnce();
    expect((await restarted.pollOnce()).landed).toHaveLength(1);
    expect(sink.received.map((r) => r.sha256)).toEqual([sha(big)]);
    expect(readdirSync(staging)).toEqual(["operator-notes.txt"]);
  });

  it("given sshd is unreachable, then the poll fails after its retries instead of hanging", async () => {
    const relay = await startRelay(1);
    const p = poller({ retry: { attempts: 2, baseMs: 10, capMs: 20 } }, relay.port);
    await expect(p.pollOnce()).rejects.toThrow();
    await relay.stop();
  });
});
