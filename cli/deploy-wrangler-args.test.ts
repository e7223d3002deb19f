import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { runDeploy } from "./lib/deploy.mjs";
// @ts-expect-error plain JS module
import { runDestroy } from "./lib/destroy.mjs";
import { captureIO, fakeAccount, makeRoot, readState, repo } from "./test-helpers/deploy-fixture";

/**
 * The fake wrangler is only as good as its likeness: every command deploy and destroy sent it is
 * sent again to the real wrangler 4.86 (offline, without a token). Each must get past wrangler's
 * strict argument parser (and, for `deploy`, bundle the Worker with the generated config) and stop
 * only where it needs the account: the missing CLOUDFLARE_API_TOKEN.
 */
const WRANGLER = join(repo, "node_modules/.bin/wrangler");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function realWrangler(args: string[], cwd: string, home: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(WRANGLER, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output: output.replace(/\x1b\[[0-9;]*m/g, "") }));
  });
}

describe("the commands dock deploy and destroy send, against the real wrangler's parser", () => {
  it("given every distinct call of a deploy, a second deploy and a destroy, when each is sent to the real wrangler without a token, then each stops only for the token", async () => {
    const root = makeRoot();
    const account = fakeAccount({}, { STRIPE_WEBHOOK_SECRET: "whsec_x" });
    const home = mkdtempSync(join(tmpdir(), "dock-wrangler-home-"));
    dirs.push(root, account.dir, home);
    await runDeploy({ root, options: {}, env: account.env, io: captureIO().io });
    await runDeploy({ root, options: {}, env: account.env, io: captureIO().io });
    // Destroy removes the generated config; the replayed calls that name it need it back.
    const generatedConfig = readFileSync(join(root, "wrangler.deploy.jsonc"), "utf8");
    const state = readState(account);
    state.buckets[0]!.objects = 3;
    writeFileSync(account.state, JSON.stringify(state));
    await runDestroy({ root, options: { yes: true, deleteBucket: true }, env: account.env, io: captureIO().io });
    writeFileSync(join(root, "wrangler.deploy.jsonc"), generatedConfig);

    const secretsFile = join(home, "secrets.json");
    writeFileSync(secretsFile, JSON.stringify({ ADMIN_TOKEN: "x" }));
    const calls = readState(account).calls.map((c) => c.map((arg, i) => (c[i - 1] === "--secrets-file" ? secretsFile : arg)));
    const distinct = [...new Map(calls.map((c) => [c.join(" "), c])).values()];
    expect(distinct.map((c) => c.slice(0, 3).join(" "))).toEqual(
      expect.arrayContaining([
        "d1 list --json",
        "d1 create loading-dock",
        "queues create loading-dock-ingest",
        "deploy --config wrangler.deploy.jsonc",
        "delete loading-dock --force",
      ]),
    );
    expect(distinct.length).toBeGreaterThan(20);

    const results: { call: string; code: number; output: string }[] = [];
    const queue = [...distinct];
    await Promise.all(
      [1, 2, 3].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) results.push({ call: c.join(" "), ...(await realWrangler(c, root, home)) });
      }),
    );
    for (const r of results) {
      expect(r.output, r.call).not.toMatch(/Unknown argument|Not enough arguments|Invalid values|Missing required argument|Build failed/);
      expect(r.output, r.call).toContain("it's necessary to set a CLOUDFLARE_API_TOKEN environment variable");
      expect(r.code, r.call).not.toBe(0);
    }
  }, 600_000);

  it("given the config deploy generated, when the real wrangler bundles it (deploy --dry-run), then it bundles, and wrangler reads the created database id from it", async () => {
    const root = makeRoot();
    const account = fakeAccount();
    const out = mkdtempSync(join(tmpdir(), "dock-bundle-"));
    dirs.push(root, account.dir, out);
    await runDeploy({ root, options: {}, env: account.env, io: captureIO().io });
    const uuid = readState(account).d1[0]!.uuid;
    const run = spawnSync(WRANGLER, ["deploy", "--dry-run", "--config", "wrangler.deploy.jsonc", "--outdir", out], {
      cwd: root,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: out, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/env\.DB \(loading-dock\)\s+D1 Database/);
    expect(run.stdout).toMatch(/env\.RATE_LIMITER \(RateLimiter\)\s+Durable Object/);
    expect(run.stdout).toContain("--dry-run: exiting now.");
    // wrangler reads the created id from it (the dry run does not print ids).
    const { experimental_readRawConfig } = await import("wrangler");
    const { rawConfig } = experimental_readRawConfig({ config: join(root, "wrangler.deploy.jsonc") });
    expect(rawConfig.d1_databases?.[0]?.database_id).toBe(uuid);
  }, 300_000);
});
