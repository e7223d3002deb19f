import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { buildPlan, checkPlan, declaredSecrets, readWranglerConfig } from "./lib/deploy-plan.mjs";
// @ts-expect-error plain JS module
import { loadSources } from "./lib/deploy-sources.mjs";
import { fakeAccount, makeRoot, readState, repo } from "./test-helpers/deploy-fixture";

/**
 * The deploy plan against the config: every binding, queue, DLQ, cron and secret that wrangler.toml
 * and the code declare must map to a step of `dock deploy`, and the check must fail for one that
 * is added to the config (or the code) only.
 */
let sources: any[];
const roots: string[] = [];
beforeAll(async () => {
  sources = await loadSources(repo);
});
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function planFor(edit?: (toml: string) => string) {
  const root = makeRoot(edit);
  roots.push(root);
  const config = await readWranglerConfig(join(root, "wrangler.toml"));
  const plan = buildPlan({ config, sources, fileDrops: ["partner"] });
  return { root, config, plan };
}

const stepOf = (plan: any, kind: string, key: string, value: string) => plan.steps.find((s: any) => s.kind === kind && s[key] === value);

describe("dock deploy's plan against wrangler.toml", () => {
  it("given the repo's wrangler.toml and secrets, when the plan is checked, then every binding, queue, DLQ, cron and secret maps to a step", async () => {
    const { config, plan } = await planFor();
    expect(checkPlan(config, plan, declaredSecrets(repo))).toEqual([]);

    // The test's own reading of the config, item by item.
    for (const db of config.d1_databases)
      expect(stepOf(plan, "d1", "binding", db.binding)?.create).toEqual(["d1", "create", db.database_name]);
    for (const b of config.r2_buckets)
      expect(stepOf(plan, "r2", "binding", b.binding)?.create).toEqual(["r2", "bucket", "create", b.bucket_name]);
    const queues = new Set<string>([
      ...config.queues.producers.map((p: any) => p.queue),
      ...config.queues.consumers.flatMap((c: any) => [c.queue, c.dead_letter_queue].filter(Boolean)),
    ]);
    expect(queues.size).toBe(6);
    for (const q of queues) expect(stepOf(plan, "queue", "name", q)?.create, q).toEqual(["queues", "create", q]);
    const covers = new Set(plan.steps.flatMap((s: any) => s.covers));
    for (const p of config.queues.producers) expect(covers.has(`producer:${p.binding}:${p.queue}`), p.binding).toBe(true);
    for (const c of config.queues.consumers.filter((c: any) => c.dead_letter_queue))
      expect(covers.has(`dlq:${c.dead_letter_queue}:${c.queue}`), c.dead_letter_queue).toBe(true);
    for (const cron of config.triggers.crons) expect(covers.has(`cron:${cron}`), cron).toBe(true);
    for (const b of config.durable_objects.bindings) expect(covers.has(`durable_object:${b.name}:${b.class_name}`)).toBe(true);
    for (const m of config.migrations) expect(covers.has(`migration:${m.tag}`)).toBe(true);
    const notification = plan.steps.find((s: any) => s.kind === "notification");
    expect(notification.create).toEqual([
      "r2",
      "bucket",
      "notification",
      "create",
      "loading-dock-raw",
      "--event-type",
      "object-create",
      "--prefix",
      "drop/",
      "--queue",
      "loading-dock-files",
    ]);
    const deploy = plan.steps.at(-1);
    expect(deploy.command).toEqual(["deploy", "--config", "wrangler.deploy.jsonc"]);
    expect(plan.steps.findIndex((s: any) => s.kind === "migrations")).toBeLessThan(plan.steps.length - 1);

    // Secrets: ours are generated, each webhook source's secret and settings are known.
    const catalog = plan.catalog;
    expect(catalog.get("ADMIN_TOKEN")).toMatchObject({ kind: "generated", format: "token" });
    expect(catalog.get("CDC_INGEST_SECRET")).toMatchObject({ kind: "generated", format: "whsec" });
    expect(catalog.get("ALERT_SIGNING_SECRET")).toMatchObject({ kind: "generated", format: "whsec" });
    expect(catalog.get("PARTNER_FILES_TOKEN")).toMatchObject({ kind: "generated", format: "token" });
    expect(catalog.get("ALERT_WEBHOOK_URL")?.kind).toBe("optional");
    const webhookSources = sources.filter((s) => s.webhook.length);
    expect(webhookSources.map((s) => s.name)).toEqual(expect.arrayContaining(["stripe", "github", "acme", "meta", "salesforce"]));
    for (const s of webhookSources) for (const name of s.webhook) expect(catalog.get(name)?.required, name).toBe(true);
    expect(catalog.get("META_VERIFY_TOKEN")).toMatchObject({ source: "meta", required: true });
    expect(catalog.get("STRIPE_API_KEY")).toMatchObject({ source: "stripe", required: true });
    expect(catalog.get("GITHUB_API_TOKEN")).toMatchObject({ source: "github", required: false });
    for (const name of declaredSecrets(repo).keys())
      if (name !== "CDC_INGEST_SECRET_PREVIOUS") expect(covers.has(`secret:${name}`), name).toBe(true);
  });

  const addedOnlyToConfig: [string, (toml: string) => string, RegExp][] = [
    ["a KV namespace", (t) => `${t}\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "abc"\n`, /`kv_namespaces`/],
    [
      "a second D1 database",
      (t) => `${t}\n[[d1_databases]]\nbinding = "ARCHIVE_DB"\ndatabase_name = "archive"\ndatabase_id = "x"\n`,
      /D1 binding ARCHIVE_DB/,
    ],
    [
      "a second R2 bucket",
      (t) => `${t}\n[[r2_buckets]]\nbinding = "ARCHIVE"\nbucket_name = "loading-dock-archive"\n`,
      /R2 binding ARCHIVE/,
    ],
    [
      "a queue producer",
      (t) => `${t}\n[[queues.producers]]\nbinding = "EXPORTS"\nqueue = "loading-dock-exports"\n`,
      /queue loading-dock-exports/,
    ],
    [
      "a consumer with its DLQ",
      (t) => `${t}\n[[queues.consumers]]\nqueue = "loading-dock-jobs"\ndead_letter_queue = "loading-dock-jobs-parking"\n`,
      /dead-letter queue loading-dock-jobs-parking of loading-dock-jobs/,
    ],
    [
      "another DLQ for an existing queue",
      (t) => t.replace('dead_letter_queue = "loading-dock-ingest-dlq"', 'dead_letter_queue = "loading-dock-ingest-dead"'),
      /dead-letter queue loading-dock-ingest-dead of loading-dock-ingest/,
    ],
    [
      "a cron",
      (t) => t.replace('crons = ["*/5 * * * *", "17 3 * * *"]', 'crons = ["*/5 * * * *", "17 3 * * *", "0 * * * *"]'),
      /cron "0 \* \* \* \*"/,
    ],
    [
      "a Durable Object and its migration",
      (t) =>
        `${t}\n[[durable_objects.bindings]]\nname = "LOCKS"\nclass_name = "Locks"\n\n[[migrations]]\ntag = "v2-locks"\nnew_sqlite_classes = ["Locks"]\n`,
      /Durable Object binding LOCKS[\s\S]*migration v2-locks/,
    ],
    ["a service binding", (t) => `${t}\n[[services]]\nbinding = "AUTH"\nservice = "auth-worker"\n`, /`services`/],
    [
      "a renamed binding",
      (t) => t.replace('binding = "RAW"', 'binding = "LAKE"'),
      /R2 binding RAW, which wrangler.toml does not have[\s\S]*R2 binding LAKE \(loading-dock-raw\) has no step/,
    ],
  ];

  it.each(addedOnlyToConfig)(
    "given %s added only to wrangler.toml, when the plan is checked, then the check fails naming it",
    async (_, edit, named) => {
      const { config, plan } = await planFor(edit);
      const problems = checkPlan(config, plan, declaredSecrets(repo));
      expect(problems.join("\n")).toMatch(named);
    },
  );

  it("given a secret declared only in src/env.d.ts or .dev.vars.example, when the plan is checked, then the check fails naming it", async () => {
    const { config, plan } = await planFor();
    const dir = mkdtempSync(join(tmpdir(), "dock-declared-"));
    roots.push(dir);
    const envTypes = join(dir, "env.d.ts");
    writeFileSync(
      envTypes,
      readFileSync(join(repo, "src/env.d.ts"), "utf8").replace("interface Env {", "interface Env {\n  WAREHOUSE_PASSWORD?: string;"),
    );
    const example = join(dir, ".dev.vars.example");
    writeFileSync(example, `${readFileSync(join(repo, ".dev.vars.example"), "utf8")}\nSNOWFLAKE_PRIVATE_KEY=local\n`);
    const problems = checkPlan(config, plan, declaredSecrets(repo, { envTypes, devVarsExample: example }));
    expect(problems).toEqual([
      "secret WAREHOUSE_PASSWORD (src/env.d.ts) has no step in dock deploy (declare it in cli/lib/deploy-manifest.mjs)",
      "secret SNOWFLAKE_PRIVATE_KEY (.dev.vars.example) has no step in dock deploy (declare it in cli/lib/deploy-manifest.mjs)",
    ]);
  });

  it("given a binding added only to wrangler.toml, when `dock deploy --dry-run` runs, then it refuses naming it and calls nothing", () => {
    const root = makeRoot((t) => `${t}\n[[queues.producers]]\nbinding = "EXPORTS"\nqueue = "loading-dock-exports"\n`);
    roots.push(root);
    const account = fakeAccount();
    roots.push(account.dir);
    const run = spawnSync(process.execPath, [join(repo, "cli/dock.mjs"), "deploy", "--dry-run", "--root", root], {
      env: account.env,
      encoding: "utf8",
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("queue producer binding EXPORTS (→ loading-dock-exports) has no step in dock deploy");
    expect(readState(account).calls ?? []).toEqual([]);
  });
});

describe("dock deploy --dry-run", () => {
  it("given a checkout, when run with --dry-run, then it prints every step with its wrangler command, calls nothing and writes nothing", () => {
    const root = makeRoot();
    roots.push(root);
    const account = fakeAccount();
    roots.push(account.dir);
    const run = spawnSync(process.execPath, [join(repo, "cli/dock.mjs"), "deploy", "--dry-run", "--root", root], {
      env: account.env,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    for (const line of [
      "wrangler d1 create loading-dock",
      "wrangler r2 bucket create loading-dock-raw",
      ...["ingest", "jobs", "files"].flatMap((q) => [
        `wrangler queues create loading-dock-${q}`,
        `wrangler queues create loading-dock-${q}-dlq`,
      ]),
      "wrangler r2 bucket notification create loading-dock-raw --event-type object-create --prefix drop/ --queue loading-dock-files",
      "write wrangler.deploy.jsonc",
      "wrangler d1 migrations apply DB --remote --config wrangler.deploy.jsonc",
      "ADMIN_TOKEN: generated",
      "CDC_INGEST_SECRET: generated (whsec_",
      "ALERT_SIGNING_SECRET: generated (whsec_",
      "PARTNER_FILES_TOKEN: generated",
      "stripe: webhooks need STRIPE_WEBHOOK_SECRET; polling needs STRIPE_API_KEY",
      "hubspot: webhooks need HUBSPOT_WEBHOOK_SECRET; polling needs HUBSPOT_ACCESS_TOKEN or HUBSPOT_REFRESH_TOKEN",
      "Durable Object migration v1-rate-limiter",
      'cron "*/5 * * * *": the scheduler tick',
      'cron "17 3 * * *"',
      "wrangler deploy --config wrangler.deploy.jsonc",
    ])
      expect(run.stdout, line).toContain(line);
    expect(readState(account).calls ?? []).toEqual([]);
    expect(existsSync(join(root, "wrangler.deploy.jsonc"))).toBe(false);
    expect(existsSync(join(root, ".deploy.vars"))).toBe(false);
  });
});
