import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { rawPull } from "./raw-pull.mjs";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

describe("npm start (the local stack and its demo)", () => {
  const state = mkdtempSync(join(tmpdir(), "dock-start-"));
  const lake = mkdtempSync(join(tmpdir(), "dock-lake-"));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill("SIGTERM");
    rmSync(state, { recursive: true, force: true });
    rmSync(lake, { recursive: true, force: true });
  });

  it("given a fresh state, when started, then the demo's webhooks and polls land and raw:pull copies them with their Hive keys", async () => {
    const port = await freePort();
    const inspector = await freePort();
    child = spawn("node", ["scripts/start.mjs", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", state], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const deadline = Date.now() + 90_000;
    while (!out.includes("running; Ctrl-C stops it")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(out).toMatch(/demo sent 6 signed webhooks: (stripe→200 ){5}acme→200/);
    expect(out).toContain("raw/source=stripe/stream=charges/dt=");
    expect(out).toMatch(/the scheduler tick polled the demo vendor: \d+ objects/);

    const token = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1];
    const result = await rawPull({ dir: lake, url: `http://127.0.0.1:${port}`, token });
    expect(result.pulled).toBeGreaterThanOrEqual(3);
    const pulled = files(lake);
    for (const key of pulled)
      expect(key).toMatch(/^raw\/source=[a-z_]+\/stream=[a-z_]+\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/(webhook|poll)-[0-9a-f]+\.jsonl\.gz$/);
    const lines = pulled.flatMap((key) =>
      gunzipSync(readFileSync(join(lake, key)))
        .toString("utf8")
        .trim()
        .split("\n"),
    );
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(["_dock", "data"]);
  });
});
