import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { runDeploy } from "./lib/deploy.mjs";
import { captureIO, type FakeAccount, fakeAccount, fileIfExists, makeRoot, readState, repo } from "./test-helpers/deploy-fixture";

/**
 * `dock deploy` for real, against a fake wrangler (cli/test-helpers/fake-wrangler.mjs) that keeps a
 * fake account's state and answers in wrangler 4.86's formats. No Cloudflare account exists here.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(preset: object = {}, extraEnv: Record<string, string> = {}) {
  const root = makeRoot();
  const account = fakeAccount(preset, extraEnv);
  dirs.push(root, account.dir);
  return { root, account };
}

async function deploy(root: string, account: FakeAccount, options: object = {}, answers?: string[]) {
  const capture = captureIO(answers);
  const result = await runDeploy({ root, options, env: account.env, io: capture.io });
  return { result, ...capture };
}

const QUEUES = ["ingest", "jobs", "files"].flatMap((q) => [`loading-dock-${q}`, `loading-dock-${q}-dlq`]);
const MIGRATIONS = readdirSync(join(repo, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();
const mutating = (calls: string[][]) =>
  calls.filter((c) => c.includes("create") || c[0] === "deploy" || c.includes("apply") || c.includes("delete")).map((c) => c.join(" "));
const deployConfig = (root: string) => JSON.parse(readFileSync(join(root, "wrangler.deploy.jsonc"), "utf8").replace(/^\/\/.*$/m, ""));

describe("dock deploy against a fake account", () => {
  it("given an empty account, when deploy runs, then it creates everything, writes the D1 id into the generated config, applies the migrations, sets every secret and prints the webhook URLs", async () => {
    const { root, account } = setup({}, { STRIPE_WEBHOOK_SECRET: "whsec_from_the_environment" });
    writeFileSync(join(root, ".deploy.vars"), "GITHUB_WEBHOOK_SECRET=github-from-the-file\nSTRIPE_API_KEY=rk_live_from_the_file\n");
    const { result, text } = await deploy(root, account);
    const state = readState(account);

    expect(state.d1.map((d) => d.name)).toEqual(["loading-dock"]);
    const uuid = state.d1[0]!.uuid;
    expect(deployConfig(root).d1_databases[0]).toMatchObject({ binding: "DB", database_name: "loading-dock", database_id: uuid });
    expect(readFileSync(join(root, "wrangler.toml"), "utf8")).toContain('database_id = "00000000-0000-0000-0000-000000000000"');
    expect(state.buckets.map((b) => b.name)).toEqual(["loading-dock-raw"]);
    expect(state.queues.map((q) => q.name).sort()).toEqual([...QUEUES].sort());
    expect(state.notifications["loading-dock-raw"]).toEqual([
      expect.objectContaining({
        queue: "loading-dock-files",
        prefix: "drop/",
        actions: ["PutObject", "CompleteMultipartUpload", "CopyObject"],
      }),
    ]);
    expect(state.d1Applied[uuid]).toEqual(MIGRATIONS);

    const worker = state.workers["loading-dock"]!;
    expect(worker.deployments).toBe(1);
    expect(worker.migrations).toEqual(["v1-rate-limiter", "v2-ledger-shards"]);
    expect(worker.crons).toEqual(["*/5 * * * *", "17 3 * * *"]);
    const secrets = worker.secrets;
    expect(Object.keys(secrets).sort()).toEqual(
      [
        "ADMIN_TOKEN",
        "ALERT_SIGNING_SECRET",
        "CDC_INGEST_SECRET",
        "GITHUB_WEBHOOK_SECRET",
        "PARTNER_FILES_TOKEN",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
      ].sort(),
    );
    expect(secrets.STRIPE_WEBHOOK_SECRET).toBe("whsec_from_the_environment");
    expect(secrets.GITHUB_WEBHOOK_SECRET).toBe("github-from-the-file");
    for (const name of ["CDC_INGEST_SECRET", "ALERT_SIGNING_SECRET"]) {
      expect(secrets[name]).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      expect(Buffer.from(secrets[name]!.slice(6), "base64")).toHaveLength(32);
    }
    for (const name of ["ADMIN_TOKEN", "PARTNER_FILES_TOKEN"]) expect(Buffer.from(secrets[name]!, "base64url")).toHaveLength(32);
    expect(new Set(Object.values(secrets)).size).toBe(Object.keys(secrets).length);

    // Ours are saved (owner-only) so the operator can use them; vendor values are not copied there.
    const saved = readFileSync(join(root, ".deploy.vars"), "utf8");
    for (const name of ["ADMIN_TOKEN", "CDC_INGEST_SECRET", "ALERT_SIGNING_SECRET", "PARTNER_FILES_TOKEN"])
      expect(saved).toContain(`${name}=${secrets[name]}\n`);
    expect(saved).not.toContain("whsec_from_the_environment");
    expect(statSync(join(root, ".deploy.vars")).mode & 0o777).toBe(0o600);

    // Resources before the migrations, the migrations before the deploy; no secret on any command line.
    const order = mutating(state.calls);
    expect(order.at(-1)).toMatch(/^deploy --config wrangler.deploy.jsonc --secrets-file \S+secrets.json$/);
    expect(order.at(-2)).toBe("d1 migrations apply DB --remote --config wrangler.deploy.jsonc");
    expect(order.slice(0, -2)).toHaveLength(1 + 1 + 6 + 1);
    for (const call of state.calls) for (const value of Object.values(secrets)) expect(call.join(" ")).not.toContain(value);

    const url = "https://loading-dock.fake-account.workers.dev";
    expect(result.url).toBe(url);
    expect(text()).toContain(`stripe      ${url}/webhooks/stripe  (ready)`);
    expect(text()).toContain(`github      ${url}/webhooks/github  (ready)`);
    expect(text()).toContain(`svix        ${url}/webhooks/svix  (not ready: set SVIX_WEBHOOK_SECRET)`);
    expect(text()).toContain(`meta        ${url}/webhooks/meta  (not ready: set META_WEBHOOK_SECRET, META_VERIFY_TOKEN)`);
    expect(text()).toContain("stripe      configured");
    expect(text()).toContain("hubspot     not configured: set HUBSPOT_ACCESS_TOKEN or HUBSPOT_REFRESH_TOKEN");
    expect(text()).toContain(`WORKER_URL=${url} CDC_INGEST_SECRET=<from .deploy.vars> CDC_SOURCE=app_db npm run sidecar`);
    expect(text()).toContain(`${url}/files/partner/orders.csv`);
  });

  it("given a deployed account, when deploy runs again, then it creates nothing, sets no secret and changes neither the generated config nor the secrets file", async () => {
    const { root, account } = setup({}, { STRIPE_WEBHOOK_SECRET: "whsec_first" });
    await deploy(root, account);
    const before = readState(account);
    const config = fileIfExists(join(root, "wrangler.deploy.jsonc"));
    const vars = fileIfExists(join(root, ".deploy.vars"));

    // Even with a different vendor value in the environment: a set secret is kept unless asked.
    account.env.STRIPE_WEBHOOK_SECRET = "whsec_second";
    const { text } = await deploy(root, account);
    const after = readState(account);
    const second = mutating(after.calls.slice(before.calls.length));
    expect(second).toEqual(["d1 migrations apply DB --remote --config wrangler.deploy.jsonc", "deploy --config wrangler.deploy.jsonc"]);
    expect(after.workers["loading-dock"]!.secrets).toEqual(before.workers["loading-dock"]!.secrets);
    expect(after.d1).toEqual(before.d1);
    expect(after.queues).toEqual(before.queues);
    expect(after.notifications).toEqual(before.notifications);
    expect(fileIfExists(join(root, "wrangler.deploy.jsonc"))).toBe(config);
    expect(fileIfExists(join(root, ".deploy.vars"))).toBe(vars);
    expect(text()).toContain("✓ wrangler.deploy.jsonc: unchanged");
    expect(text()).toContain("✓ D1 migrations (DB, remote): up to date");
    expect(text()).toContain("✓ secrets: nothing new to set");

    // Asked by name, a set secret is set again.
    await deploy(root, account, { replaceSecrets: ["STRIPE_WEBHOOK_SECRET"] });
    expect(readState(account).workers["loading-dock"]!.secrets.STRIPE_WEBHOOK_SECRET).toBe("whsec_second");
  });

  it("given a partly provisioned account (the database and two queues made by hand, a Worker whose ADMIN_TOKEN is set), then only what is missing is created and ADMIN_TOKEN is not regenerated", async () => {
    const uuid = "5b1c0de0-0000-4000-8000-00000000d1d1";
    const preset = {
      d1: [{ name: "loading-dock", uuid, created_at: "2026-01-01T00:00:00Z" }],
      queues: [
        { id: "q1", name: "some-other-queue", created_on: "2026-01-01T00:00:00Z" },
        { id: "q2", name: "loading-dock-jobs", created_on: "2026-01-01T00:00:00Z" },
        { id: "q3", name: "loading-dock-files-dlq", created_on: "2026-01-01T00:00:00Z" },
      ],
      workers: {
        "loading-dock": {
          secrets: { ADMIN_TOKEN: "the-token-the-operator-already-uses" },
          deployments: 1,
          migrations: [],
          crons: [],
          queues: [],
        },
      },
    };
    // One queue per page: the existing ones are on pages 2 and 3.
    const { root, account } = setup(preset, { FAKE_QUEUES_PAGE_SIZE: "1" });
    const { text } = await deploy(root, account);
    const state = readState(account);
    const created = mutating(state.calls).filter((c) => c.includes("create"));
    expect(created).toEqual([
      "r2 bucket create loading-dock-raw",
      "queues create loading-dock-ingest",
      "queues create loading-dock-ingest-dlq",
      "queues create loading-dock-jobs-dlq",
      "queues create loading-dock-files",
      "r2 bucket notification create loading-dock-raw --event-type object-create --prefix drop/ --queue loading-dock-files",
    ]);
    expect(deployConfig(root).d1_databases[0].database_id).toBe(uuid);
    expect(state.workers["loading-dock"]!.secrets.ADMIN_TOKEN).toBe("the-token-the-operator-already-uses");
    expect(fileIfExists(join(root, ".deploy.vars"))).not.toContain("ADMIN_TOKEN");
    expect(text()).toContain(
      `✓ D1 database loading-dock (binding DB: the ledger: dedupe keys, cursors, runs, schedules, file ledger, dead letters): exists (${uuid})`,
    );
  });

  it("given a step that fails, when deploy runs from the CLI, then it stops there naming the step and wrangler's error, calls nothing after it, and a second run finishes the rest", async () => {
    const { root, account } = setup({}, { FAKE_WRANGLER_FAIL: "queues create loading-dock-jobs-dlq" });
    const run = spawnSync(process.execPath, [join(repo, "cli/dock.mjs"), "deploy", "--root", root], { env: account.env, encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'dock deploy stopped at step "create queue loading-dock-jobs-dlq": `wrangler queues create loading-dock-jobs-dlq` exited with 1',
    );
    expect(run.stderr).toContain("Authentication error [code: 10000]");
    const calls = readState(account).calls.map((c) => c.join(" "));
    expect(calls.at(-1)).toBe("queues create loading-dock-jobs-dlq");
    expect(calls.some((c) => c.startsWith("deploy"))).toBe(false);
    expect(fileIfExists(join(root, ".deploy.vars"))).toBeNull();

    delete account.env.FAKE_WRANGLER_FAIL;
    const before = readState(account).calls.length;
    const rerun = spawnSync(process.execPath, [join(repo, "cli/dock.mjs"), "deploy", "--root", root], {
      env: account.env,
      encoding: "utf8",
    });
    expect(rerun.status, rerun.stderr).toBe(0);
    const created = mutating(readState(account).calls.slice(before)).filter((c) => c.includes("create"));
    expect(created).toEqual([
      "queues create loading-dock-jobs-dlq",
      "queues create loading-dock-files",
      "queues create loading-dock-files-dlq",
      "r2 bucket notification create loading-dock-raw --event-type object-create --prefix drop/ --queue loading-dock-files",
    ]);
    expect(rerun.stdout).toContain("https://loading-dock.fake-account.workers.dev/webhooks/stripe");
  });

  it("given no API token or account id, when deploy runs, then it refuses before calling wrangler", async () => {
    const { root, account } = setup();
    delete account.env.CLOUDFLARE_ACCOUNT_ID;
    await expect(deploy(root, account)).rejects.toThrow(/needs CLOUDFLARE_ACCOUNT_ID in the environment.*Nothing was called/s);
    expect(readState(account).calls ?? []).toEqual([]);
  });

  it("given --sources in a terminal, when the source's settings are set nowhere, then deploy asks for each and sets the answers; an empty answer skips one", async () => {
    const { root, account } = setup();
    const { questions, text } = await deploy(root, account, { sources: ["stripe", "hubspot"] }, [
      "whsec_typed_in",
      "rk_typed_in",
      "",
      "",
      "pat-typed-in",
    ]);
    expect(questions).toEqual([
      "stripe: STRIPE_WEBHOOK_SECRET — empty to skip: ",
      "stripe: STRIPE_API_KEY — empty to skip: ",
      "hubspot: HUBSPOT_WEBHOOK_SECRET — empty to skip: ",
      "hubspot: HUBSPOT_ACCESS_TOKEN (HUBSPOT_ACCESS_TOKEN or HUBSPOT_REFRESH_TOKEN) — empty to skip: ",
      "hubspot: HUBSPOT_REFRESH_TOKEN (HUBSPOT_ACCESS_TOKEN or HUBSPOT_REFRESH_TOKEN) — empty to skip: ",
    ]);
    const secrets = readState(account).workers["loading-dock"]!.secrets;
    expect(secrets).toMatchObject({
      STRIPE_WEBHOOK_SECRET: "whsec_typed_in",
      STRIPE_API_KEY: "rk_typed_in",
      HUBSPOT_REFRESH_TOKEN: "pat-typed-in",
    });
    expect(secrets.HUBSPOT_WEBHOOK_SECRET).toBeUndefined();
    expect(text()).toContain(
      "hubspot     https://loading-dock.fake-account.workers.dev/webhooks/hubspot  (not ready: set HUBSPOT_WEBHOOK_SECRET)",
    );

    // Without a terminal the same run says what is missing instead of asking.
    const again = setup();
    const quiet = await deploy(again.root, again.account, { sources: ["svix"] });
    expect(quiet.questions).toEqual([]);
    expect(quiet.text()).toContain("! svix: SVIX_WEBHOOK_SECRET not given (no terminal to ask in)");
  });

  it("given an unknown name in --sources or a [vars] name in the secrets file, then deploy says so", async () => {
    const { root, account } = setup();
    await expect(deploy(root, account, { sources: ["strpie"] })).rejects.toThrow(/--sources: no source named strpie/);
    writeFileSync(join(root, ".deploy.vars"), "CDC_SOURCES=app_db,billing\nSTRIPE_WEBHOK_SECRET=typo\n");
    const { text } = await deploy(root, account);
    expect(text()).toContain("! CDC_SOURCES in the secrets file is a [vars] entry of wrangler.toml: change it there (not set as a secret)");
    expect(text()).toContain("! STRIPE_WEBHOK_SECRET (from the secrets file) is not a setting the deploy knows any source to read");
    expect(readState(account).workers["loading-dock"]!.secrets.CDC_SOURCES).toBeUndefined();
  });
});
