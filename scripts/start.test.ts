import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type Proc, processTree, survivors } from "./processes";
import { rawPull } from "./raw-pull.mjs";

const execFileP = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Holds 127.0.0.1:port for the test; a port someone else already holds is just as taken. */
async function occupy(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

interface Started {
  child: ChildProcess;
  output: () => string;
  waitFor: (text: string | RegExp, ms?: number, from?: number) => Promise<void>;
}

function start(args: string[]): Started {
  const child = spawn("node", ["scripts/start.mjs", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const waitFor = async (text: string | RegExp, ms = 90_000, from = 0) => {
    const deadline = Date.now() + ms;
    const seen = () => (typeof text === "string" ? out.slice(from).includes(text) : text.test(out.slice(from)));
    while (!seen()) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start never printed ${text}:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  return { child, output: () => out, waitFor };
}

/** Stops npm start with `signal` and returns what is left of the processes it had started. */
async function stopAndList(started: Started, signal: NodeJS.Signals, tree: Proc[]): Promise<Proc[]> {
  const exited = new Promise((resolve) => started.child.once("exit", resolve));
  started.child.kill(signal);
  await exited;
  return survivors(tree);
}

const token = () => readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1];

describe("npm start (the local stack and its demo)", () => {
  const state = mkdtempSync(join(tmpdir(), "dock-start-"));
  const lake = mkdtempSync(join(tmpdir(), "dock-lake-"));
  const running: ChildProcess[] = [];
  const held: Server[] = [];
  afterAll(() => {
    for (const child of running) if (child.exitCode === null) child.kill("SIGTERM");
    for (const server of held) server.close();
    rmSync(state, { recursive: true, force: true });
    rmSync(lake, { recursive: true, force: true });
  });

  it("given the default ports (8787, 9229, 8788) taken, when started, then the Worker, inspector and demo vendor come up on others, the demo lands, every hint names the ports used, and raw pull and dock query at the printed URL copy and count the raw zone; when stopped with SIGINT (Ctrl-C), no process it started survives", async () => {
    for (const port of [8787, 9229, 8788]) {
      const server = await occupy(port);
      if (server) held.push(server);
    }
    const started = start(["--persist-to", state]);
    running.push(started.child);
    await started.waitFor("running; Ctrl-C stops it");
    const out = started.output();

    const workerPort = Number(out.match(/starting wrangler dev on http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    const inspectorPort = Number(out.match(/inspector on 127\.0\.0\.1:(\d+)/)?.[1]);
    const vendorPort = Number(out.match(/demo vendor \(.*\) on http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    expect(new Set([workerPort, inspectorPort, vendorPort, 8787, 9229, 8788]).size).toBe(6);
    expect(out).toContain(`port 8787 is taken: the Worker uses ${workerPort}`);
    expect(out).toContain(`port 9229 is taken: the inspector uses ${inspectorPort}`);
    expect(out).toContain(`port 8788 is taken: the demo vendor uses ${vendorPort}`);
    const base = `http://127.0.0.1:${workerPort}`;
    expect((await fetch(`${base}/healthz`)).ok).toBe(true);

    expect(out).toMatch(/demo sent 6 signed webhooks: (stripe→200 ){5}acme→200/);
    expect(out).toContain("raw/source=stripe/stream=charges/dt=");
    expect(out).toMatch(/the scheduler tick polled the demo vendor: \d+ objects/);

    const hints = out.slice(out.lastIndexOf("look around:"));
    expect(hints).toContain(`${base}/ `);
    expect(hints).toContain(`${base}/status`);
    expect(hints).toContain(`npm run dock -- --url ${base} status`);
    expect(hints).toContain(`npm run dock -- --url ${base} raw pull ./lake`);
    expect(hints).toContain(`npm run dock -- --url ${base} query `);
    expect(hints).toContain(`127.0.0.1:${inspectorPort}`);
    expect(hints).not.toMatch(/:8787\b/);

    const result = await rawPull({ dir: lake, url: base, token: token() });
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

    // The query hint as printed: dock query pulls into its copy and counts every line in it.
    const cache = join(lake, "query-copy");
    const query = hints.match(/npm run dock -- (--url \S+) query "([^"]+)"/);
    expect(query?.[1]).toBe(`--url ${base}`);
    const { stdout } = await execFileP(process.execPath, [
      "cli/dock.mjs",
      "--url",
      base,
      "query",
      "--cache",
      cache,
      "--format",
      "csv",
      "SELECT count(*) AS n FROM raw",
    ]);
    const copied = files(cache).filter((f) => f.endsWith(".jsonl.gz"));
    const copiedLines = copied.flatMap((key) =>
      gunzipSync(readFileSync(join(cache, key)))
        .toString("utf8")
        .trim()
        .split("\n"),
    );
    expect(copied.length).toBeGreaterThanOrEqual(pulled.length);
    expect(stdout).toBe(`n\n${copiedLines.length}\n`);
    const grouped = await execFileP(process.execPath, [
      "cli/dock.mjs",
      "--url",
      base,
      "query",
      "--no-pull",
      "--cache",
      cache,
      query?.[2] as string,
    ]);
    expect(grouped.stdout).toMatch(/stripe\s+charges\s+\d+/);

    const tree = processTree(started.child.pid as number);
    expect(tree.some((p) => p.command.includes("workerd"))).toBe(true);
    expect(await stopAndList(started, "SIGINT", tree)).toEqual([]);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it("given a --port that is taken, when started, then it refuses at once naming the port and the flag, and starts nothing", async () => {
    const port = await freePort();
    const server = await occupy(port);
    if (server) held.push(server);
    const started = start(["--no-demo", "--port", String(port), "--persist-to", state]);
    running.push(started.child);
    const code = await new Promise((resolve) => started.child.once("exit", resolve));
    expect(code).toBe(1);
    expect(started.output()).toContain(`the Worker's port ${port} (--port) is in use`);
    expect(started.output()).not.toContain("starting wrangler dev");
  });

  it("given a running stack with --vars, when the vars file's ADMIN_TOKEN is edited, then wrangler dev restarts on the same port with the new token; when stopped with SIGHUP (a closed terminal), no process of either run survives (wrangler and workerd used to be left running)", async () => {
    const vars = join(state, "local.vars");
    const original = readFileSync(".dev.vars.example", "utf8");
    writeFileSync(vars, original.replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=first-token"));
    const port = await freePort();
    const started = start([
      "--no-demo",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      state,
      "--vars",
      vars,
    ]);
    running.push(started.child);
    await started.waitFor("running; Ctrl-C stops it");
    const base = `http://127.0.0.1:${port}`;
    const rawWith = async (bearer: string) =>
      (await fetch(`${base}/admin/raw?prefix=raw/`, { headers: { authorization: `Bearer ${bearer}` } })).status;
    expect(await rawWith("first-token")).toBe(200);
    expect(started.output()).toContain(`npm run dock -- --url ${base} --token 'first-token' status`);
    const firstTree = processTree(started.child.pid as number);

    const mark = started.output().length;
    writeFileSync(vars, original.replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=second-token"));
    await started.waitFor("worker is up again with the new local.vars", 90_000, mark);
    expect(await rawWith("second-token")).toBe(200);
    expect(await rawWith("first-token")).toBe(401);
    expect(started.output().slice(mark)).toContain(`--token 'second-token' status`);
    // The first wrangler dev and its workerd are gone already; the second run is running.
    expect(survivors(firstTree.filter((p) => p.pid !== started.child.pid))).toEqual([]);

    const secondTree = processTree(started.child.pid as number);
    expect(secondTree.some((p) => p.command.includes("workerd"))).toBe(true);
    expect(await stopAndList(started, "SIGHUP", [...firstTree, ...secondTree])).toEqual([]);
  });
});
