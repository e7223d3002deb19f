import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("given sshd is unreachable, then the poll fails after its retries instead of hanging", async () => {
    const relay = await startRelay(1);
    const p = poller({ retry: { attempts: 2, baseMs: 10, capMs: 20 } }, relay.port);
    await expect(p.pollOnce()).rejects.toThrow();
    await relay.stop();
  });
});
