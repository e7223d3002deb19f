import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev } from "../bench/lib/wrangler-dev.mjs";
import { type RunningDemoVendor, startDemoVendor } from "../demo/server";
// @ts-expect-error plain JS module
import { loadDevVars } from "../scripts/dev-vars.mjs";

/**
 * `dock test-read` end to end: the demo vendor on Node, `wrangler dev` with fresh local state
 * pointed at it (DEMO_VENDOR_URL), and the CLI. It prints one page's envelopes and writes nothing;
 * a real `dock run` against the same Worker afterwards does land records, so the checks for
 * "nothing written" are ones that would see a write.
 */
const repo = resolve(import.meta.dirname, "..");

interface Dev {
  url: string;
  state: string;
  stop: () => Promise<void>;
  log: () => string;
}

describe("dock test-read against wrangler dev and the demo vendor", () => {
  let vendor: RunningDemoVendor | undefined;
  let dev: Dev | undefined;
  const token = (loadDevVars(repo) as Record<string, string>).ADMIN_TOKEN as string;

  const dock = (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((done) => {
      const child = spawn(process.execPath, [join(repo, "cli/dock.mjs"), "--url", dev?.url ?? "", ...args], {
        cwd: repo,
        env: { ...process.env, DOCK_ADMIN_TOKEN: token },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (code) => done({ code, stdout, stderr }));
    });

  const admin = async (path: string) => {
    const res = await fetch(`${dev?.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Record<string, unknown[]>;
  };

  beforeAll(async () => {
    vendor = await startDemoVendor({ port: 0, items: 250, failRate: 0, burst429: { every: 0, length: 0 } });
    dev = (await startWranglerDev({ vars: { DEMO_VENDOR_URL: vendor.url } })) as Dev;
  });
  afterAll(async () => {
    await dev?.stop();
    await vendor?.stop();
    if (dev) rmSync(dev.state, { recursive: true, force: true });
  });

  it("given a configured source, when test-read, then one page of envelopes is printed with the cursor and next page, and nothing lands until a real run", async () => {
    const out = await dock("test-read", "demo.items");
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines).toHaveLength(100);
    const first = JSON.parse(lines[0] as string) as { _dock: Record<string, string>; data: Record<string, unknown> };
    expect(first._dock).toMatchObject({ source: "demo", stream: "items", pattern: "poll", key: "item_00001", op: "upsert" });
    expect(first._dock.version).toMatch(/^2026-11-20T00:00:00\.000Z\|[0-9a-f]{16}$/);
    expect(lines[0]).toContain('"amount_minor":9007199254740993');
    expect(out.stderr).toContain(`GET ${vendor?.url}/v1/items?limit=100`);
    expect(out.stderr).toContain("100 records would land (poll; demo.items: 100)");
    expect(out.stderr).toContain("cursor: (none stored) → 2026-11-20T00:00:14.000Z after this page");
    expect(out.stderr).toContain(`next page: {"keyset":"2026-11-20T00:00:14.000Z"}`);
    expect(out.stderr).toContain("wrote nothing");
    expect(vendor?.stats.ok).toBe(1);

    // The page it names as next is the one `--next` reads.
    const second = await dock("test-read", "demo.items", "--next", '{"keyset":"2026-11-20T00:00:14.000Z"}');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`GET ${vendor?.url}/v1/items?limit=100&updated_since=2026-11-20T00%3A00%3A14.000Z`);
    expect(JSON.parse(second.stdout.split("\n")[0] as string)._dock.key).not.toBe("item_00001");

    // Nothing written: no run, no raw object, no cursor (a queued record would have been delivered by now).
    await new Promise((r) => setTimeout(r, 3000));
    expect((await admin("/admin/runs?source=demo")).runs).toEqual([]);
    expect((await admin("/admin/raw?prefix=raw/source=demo/")).objects).toEqual([]);

    // The same Worker does land records when asked to run: the checks above would have seen them.
    const run = await dock("run", "demo.items");
    expect(run.code, run.stderr).toBe(0);
    const deadline = Date.now() + 60_000;
    let objects: unknown[] = [];
    while (objects.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      objects = (await admin("/admin/raw?prefix=raw/source=demo/stream=items/")).objects ?? [];
    }
    expect(objects.length, dev?.log()).toBeGreaterThan(0);
  });

  it("given a source that is not configured, when test-read, then it exits non-zero naming the variables to set and where", async () => {
    const out = await dock("test-read", "hubspot.contacts");
    expect(out.code).not.toBe(0);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(/HTTP 422: source hubspot.* not configured/);
    expect(out.stderr).toMatch(/set HUBSPOT_\w+.* in \.dev\.vars, then restart `npm start`/);
  });
});
