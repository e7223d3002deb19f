import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const DOCK = join(import.meta.dirname, "dock.mjs");

/** The admin API as `dock run` meets it: every request recorded, each answered with the reply queued for it. */
const seen: { method: string; url: string; body: unknown }[] = [];
let reply: { status: number; body: unknown } = { status: 202, body: {} };
let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body: text ? JSON.parse(text) : undefined });
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

function dock(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DOCK, "--url", url, "--token", "t", ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("dock run", () => {
  it("given no --full-refresh, when a stream is run, then it asks the admin API for a poll, never leaving the choice to the Worker", async () => {
    reply = { status: 202, body: { queued: { kind: "poll" } } };
    const out = await dock("run", "demo.items");
    expect(out.code).toBe(0);
    expect(seen).toEqual([{ method: "POST", url: "/admin/streams/demo/items/run", body: { pattern: "poll" } }]);
  });

  it("given --full-refresh (and --force), then it asks for a full refresh", async () => {
    reply = { status: 202, body: { queued: { kind: "full_refresh" } } };
    const out = await dock("run", "demo.plans", "--full-refresh", "--force");
    expect(out.code).toBe(0);
    expect(seen).toEqual([{ method: "POST", url: "/admin/streams/demo/plans/run", body: { pattern: "full_refresh", force: true } }]);
  });

  it("given a source that is not configured, when it is run, then the refusal is printed with what to set and the exit code is not 0", async () => {
    reply = {
      status: 422,
      body: {
        error: "source demo is not configured: set DEMO_VENDOR_URL (its base URL); its credentials need DEMO_VENDOR_TOKEN",
        missing: ["DEMO_VENDOR_URL", "DEMO_VENDOR_TOKEN"],
      },
    };
    const out = await dock("run", "demo.items");
    expect(out.code).not.toBe(0);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain("HTTP 422: source demo is not configured: set DEMO_VENDOR_URL (its base URL)");
    expect(out.stderr).toContain("DEMO_VENDOR_TOKEN");
  });
});
