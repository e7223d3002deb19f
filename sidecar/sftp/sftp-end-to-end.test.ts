import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SftpPoller } from "./poller";
import { type SshdServer, startSshd } from "./testing/sshd-server";
import { startWorker } from "./testing/worker-dev";

const TOKEN = "partner-files-token-e2e-123456";
const ADMIN = "e2e-admin-token";
let sshd: SshdServer;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  [sshd, worker] = await Promise.all([startSshd(), startWorker({ PARTNER_FILES_TOKEN: TOKEN, ADMIN_TOKEN: ADMIN })]);
}, 120_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), worker?.stop()]);
});

async function admin<T>(path: string): Promise<T> {
  const res = await fetch(`${worker.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (path.startsWith("/admin/raw/") ? Buffer.from(await res.arrayBuffer()) : await res.json()) as T;
}

describe("partner SFTP end to end", () => {
  it("given a CSV on the partner's server, when the poller runs twice, then the Worker keeps the original and its rows land in the raw zone", async () => {
    const csv = "id,amount\n1,10.00\n2,20.50\n";
    const path = join(sshd.remoteDir, "settlements_2026-11-25.csv");
    writeFileSync(path, csv);
    utimesSync(path, 1_764_001_000, 1_764_001_000);
    const local = mkdtempSync(join(tmpdir(), "dock-sftp-e2e-"));
    const poller = new SftpPoller({
      target: { host: "127.0.0.1", port: sshd.port, username: sshd.username, privateKey: sshd.userKey, hostKey: sshd.hostKeyLine },
      remoteDir: sshd.remoteDir,
      drop: { baseUrl: worker.url, source: "partner", token: TOKEN },
      ledgerPath: join(local, "ledger.jsonl"),
      stagingDir: join(local, "staging"),
      retry: { attempts: 3, baseMs: 50, capMs: 500 },
    });
    await poller.pollOnce();
    const report = await poller.pollOnce();
    expect(report.landed).toEqual([
      { path, key: expect.stringMatching(/^files\/source=partner\/\d{4}-\d{2}-\d{2}\/settlements_2026-11-25\.csv$/), status: "landed" },
    ]);
    const key = report.landed[0]?.key as string;
    expect((await admin<Buffer>(`/admin/raw/${key}`)).toString()).toBe(csv);

    const deadline = Date.now() + 60_000;
    let lines: { _dock: { line: number; file: string }; data: unknown }[] = [];
    while (lines.length < 2) {
      if (Date.now() > deadline) throw new Error(`rows did not land:\n${worker.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
      const { objects } = await admin<{ objects: { key: string }[] }>("/admin/raw?prefix=raw/source=partner/stream=settlements/");
      lines = [];
      for (const o of objects) {
        const text = gunzipSync(await admin<Buffer>(`/admin/raw/${o.key}`)).toString();
        lines.push(
          ...text
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
      }
    }
    lines.sort((a, b) => a._dock.line - b._dock.line);
    expect(lines.map((l) => l.data)).toEqual([
      { id: "1", amount: "10.00" },
      { id: "2", amount: "20.50" },
    ]);
    expect(lines.every((l) => l._dock.file === key)).toBe(true);

    // Polling again changes nothing: the ledger holds the file.
    await poller.pollOnce();
    expect(poller.ledgerEntries()).toHaveLength(1);
    poller.close();
  }, 120_000);

  it("given a partner file whose name is not ASCII, when the poller runs twice, then the Worker lands it under a percent-encoded key and its rows carry the real name", async () => {
    const name = "Rückbuchungen März €_2026-11-25.csv";
    const csv = "id,betrag\n1,-5.00\n";
    const path = join(sshd.remoteDir, name);
    writeFileSync(path, csv);
    utimesSync(path, 1_764_002_000, 1_764_002_000);
    const local = mkdtempSync(join(tmpdir(), "dock-sftp-e2e-"));
    const poller = new SftpPoller({
      target: { host: "127.0.0.1", port: sshd.port, username: sshd.username, privateKey: sshd.userKey, hostKey: sshd.hostKeyLine },
      remoteDir: sshd.remoteDir,
      drop: { baseUrl: worker.url, source: "partner", token: TOKEN },
      ledgerPath: join(local, "ledger.jsonl"),
      stagingDir: join(local, "staging"),
      retry: { attempts: 3, baseMs: 50, capMs: 500 },
    });
    await poller.pollOnce();
    const report = await poller.pollOnce();
    poller.close();
    expect(report.refused).toEqual([]);
    const segment = "R%C3%BCckbuchungen M%C3%A4rz %E2%82%AC_2026-11-25.csv";
    expect(report.landed.find((l) => l.path === path)).toEqual({
      path,
      key: expect.stringMatching(new RegExp(`^files/source=partner/\\d{4}-\\d{2}-\\d{2}/${segment.replace(/[.]/g, "\\.")}$`)),
      status: "landed",
    });
    const key = report.landed.find((l) => l.path === path)?.key as string;
    const keyPath = key.split("/").map(encodeURIComponent).join("/");
    expect((await admin<Buffer>(`/admin/raw/${keyPath}`)).toString()).toBe(csv);

    const deadline = Date.now() + 60_000;
    let lines: { _dock: { key: string; file: string }; data: unknown }[] = [];
    while (lines.length < 1) {
      if (Date.now() > deadline) throw new Error(`rows did not land:\n${worker.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
      const { objects } = await admin<{ objects: { key: string }[] }>("/admin/raw?prefix=raw/source=partner/stream=ruckbuchungen_marz/");
      lines = [];
      for (const o of objects) {
        const text = gunzipSync(await admin<Buffer>(`/admin/raw/${o.key}`)).toString();
        lines.push(
          ...text
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
      }
    }
    expect(lines.map((l) => [l._dock.key, l._dock.file, l.data])).toEqual([[`${name}#2`, key, { id: "1", betrag: "-5.00" }]]);
  }, 120_000);
});
