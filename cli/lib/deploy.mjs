import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { buildPlan, checkPlan, declaredSecrets, formatPlan, GENERATED_CONFIG, readWranglerConfig, SECRETS_FILE } from "./deploy-plan.mjs";
import { readSecretsFile, resolveSecrets, saveSecrets, sourceReadiness } from "./deploy-secrets.mjs";
import { loadSources } from "./deploy-sources.mjs";
import { readInventory, requireCredentials, StepFailed, stepCaller } from "./deploy-steps.mjs";
import { parseD1List, parseDeployUrl, parseNotificationList, wranglerRunner } from "./deploy-wrangler.mjs";

export const DEFAULT_FILE_DROPS = ["partner"];

/** The config, the sources and the plan, checked against each other (the same for a dry run and a real one). */
export async function preparePlan(root, { fileDrops = DEFAULT_FILE_DROPS } = {}) {
  const config = await readWranglerConfig(join(root, "wrangler.toml"));
  const sources = await loadSources(root);
  const plan = buildPlan({ config, sources, fileDrops });
  const problems = checkPlan(config, plan, declaredSecrets(root));
  if (problems.length)
    throw new Error(`the deploy plan does not match wrangler.toml and the code:\n  - ${problems.join("\n  - ")}\nNothing was called.`);
  return { config, sources, plan };
}

/**
 * `dock deploy`: create what is missing (D1, R2, queues and DLQs, the R2 event notification), write
 * the ids into wrangler.deploy.jsonc, apply the D1 migrations, set the secrets not yet set, deploy
 * (which applies the Durable Object migrations and attaches the crons), and say what to do next.
 * Every step first looks at what exists, so a second run changes nothing that is already right.
 */
export async function runDeploy({ root, options = {}, env = process.env, io, runner }) {
  const fileDrops = options.fileDrops ?? DEFAULT_FILE_DROPS;
  const { config, sources, plan } = await preparePlan(root, { fileDrops });
  const secretsPath = resolve(root, options.secretsFile ?? SECRETS_FILE);
  const secretsLabel = relative(root, secretsPath) || secretsPath;
  const asked = options.sources ?? [];
  const unknown = asked.filter((name) => !sources.some((s) => s.name === name));
  if (unknown.length) throw new Error(`--sources: no source named ${unknown.join(", ")} (known: ${sources.map((s) => s.name).join(", ")})`);

  if (options.dryRun) {
    io.out(formatPlan(plan, { secretsFile: secretsLabel }));
    return { dryRun: true, plan };
  }
  requireCredentials(env, "dock deploy");
  const call = stepCaller("dock deploy", runner ?? wranglerRunner({ root, env }));
  const done = (mark, text) => io.out(`${mark} ${text}`);

  const inventory = await readInventory(call, plan.worker);
  const remote = inventory.secrets ?? new Set();
  const file = readSecretsFile(secretsPath);
  const secrets = resolveSecrets({
    catalog: plan.catalog,
    remote,
    env,
    file,
    replace: options.replaceSecrets ?? [],
    vars: config.vars ?? {},
  });
  await askForVendorSettings({ io, sources: sources.filter((s) => asked.includes(s.name)), remote, secrets });

  const ids = {};
  for (const step of plan.steps) {
    if (step.kind === "d1") {
      let db = inventory.databases.find((d) => d.name === step.name);
      if (db) done("✓", `${step.title}: exists (${db.uuid})`);
      else {
        await call(`create D1 database ${step.name}`, step.create);
        const listed = await call("list D1 databases", ["d1", "list", "--json"], (r) => parseD1List(r.stdout));
        db = listed.find((d) => d.name === step.name);
        if (!db)
          throw new StepFailed(
            "dock deploy",
            `create D1 database ${step.name}`,
            step.create,
            "succeeded, but the database is not in `wrangler d1 list`",
          );
        done("+", `${step.title}: created (${db.uuid})`);
      }
      ids[step.binding] = db.uuid;
    } else if (step.kind === "r2" || step.kind === "queue") {
      const exists = step.kind === "r2" ? inventory.buckets.has(step.name) : inventory.queues.has(step.name);
      if (exists) done("✓", `${step.title}: exists`);
      else {
        await call(`create ${step.kind === "r2" ? "R2 bucket" : "queue"} ${step.name}`, step.create);
        done("+", `${step.title}: created`);
      }
    } else if (step.kind === "notification") {
      const rules = await call(`list event notifications of ${step.bucket}`, ["r2", "bucket", "notification", "list", step.bucket], (r) =>
        parseNotificationList(r.stdout),
      );
      const exists = rules.some((rule) => rule.queue === step.queue && rule.prefix === step.prefix && rule.actions.includes("PutObject"));
      if (exists) done("✓", `${step.title}: exists`);
      else {
        await call(`create the event notification ${step.bucket}/${step.prefix} → ${step.queue}`, step.create);
        done("+", `${step.title}: created`);
      }
    } else if (step.kind === "config") {
      const changed = writeGeneratedConfig(root, config, ids);
      done(changed ? "+" : "✓", `${GENERATED_CONFIG}: ${changed ? "written" : "unchanged"}`);
    } else if (step.kind === "migrations") {
      const out = await call(`apply the D1 migrations to ${step.command[3]}`, step.command, (r) => r.stdout);
      done("✓", `D1 migrations (${step.command[3]}, remote): ${/No migrations to apply/i.test(out) ? "up to date" : "applied"}`);
    } else if (step.kind === "secrets") {
      saveSecrets(secretsPath, secrets.generated);
      for (const warning of secrets.warnings) done("!", warning);
      const names = Object.keys(secrets.toSet);
      done(names.length ? "+" : "✓", names.length ? `secrets to set with the deploy: ${names.join(", ")}` : "secrets: nothing new to set");
      if (Object.keys(secrets.generated).length)
        done(" ", `generated ${Object.keys(secrets.generated).join(", ")}: saved to ${secretsLabel} (owner-only)`);
    } else if (step.kind === "deploy") {
      const out = await deployWithSecrets(call, step.command, secrets.toSet);
      const url = options.url ?? parseDeployUrl(out) ?? secrets.toSet.PUBLIC_BASE_URL ?? env.PUBLIC_BASE_URL ?? null;
      done("✓", `deployed ${plan.worker}${url ? ` → ${url}` : ""}`);
      const isSet = (name) => remote.has(name) || name in secrets.toSet;
      io.out(summary({ url, sources, isSet, secretsLabel, fileDrops, config }));
      return { url, created: secrets.generated, set: Object.keys(secrets.toSet) };
    }
  }
  throw new Error("the plan has no deploy step");
}

/** Asks (in a terminal) for each needed setting of the named sources that is set nowhere yet. */
async function askForVendorSettings({ io, sources, remote, secrets }) {
  if (sources.length === 0) return;
  const isSet = (name) => remote.has(name) || name in secrets.toSet;
  for (const { source, unsetWebhook, unsetPoll } of sourceReadiness(sources, isSet)) {
    const entries = [...unsetWebhook, ...unsetPoll];
    if (entries.length === 0) continue;
    if (!io.interactive) {
      io.out(`! ${source.name}: ${entries.join(", ")} not given (no terminal to ask in): set them in the environment or the secrets file`);
      continue;
    }
    for (const entry of entries) {
      for (const name of entry.split(" or ")) {
        const answer = (
          await io.ask(`${source.name}: ${name}${entry.includes(" or ") ? ` (${entry})` : ""} — empty to skip: `, { secret: true })
        ).trim();
        if (answer) {
          secrets.toSet[name] = answer;
          break;
        }
      }
    }
  }
}

/** wrangler.toml with the created ids, as the config the deploy runs with. Returns whether the file changed. */
export function writeGeneratedConfig(root, config, ids) {
  const deployConfig = structuredClone(config);
  for (const db of deployConfig.d1_databases ?? []) if (ids[db.binding]) db.database_id = ids[db.binding];
  const text = `// Generated by \`dock deploy\` from wrangler.toml with the ids it created. Do not edit: change wrangler.toml and run it again.\n${JSON.stringify(deployConfig, null, 2)}\n`;
  const path = join(root, GENERATED_CONFIG);
  if (existsSync(path) && readFileSync(path, "utf8") === text) return false;
  writeFileSync(path, text);
  return true;
}

/** `wrangler deploy`, carrying the secrets not yet set in a temporary owner-only file (never on a command line). */
async function deployWithSecrets(call, command, toSet) {
  if (Object.keys(toSet).length === 0) return call("deploy the Worker", command, (r) => r.stdout);
  const dir = mkdtempSync(join(tmpdir(), "dock-deploy-"));
  const file = join(dir, "secrets.json");
  try {
    writeFileSync(file, JSON.stringify(toSet), { mode: 0o600 });
    chmodSync(file, 0o600);
    return await call("deploy the Worker (with its new secrets)", [...command, "--secrets-file", file], (r) => r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The webhook URLs, what each source still needs, and what to do next. */
export function summary({ url, sources, isSet, secretsLabel, fileDrops, config }) {
  const base = url ?? "<the Worker's URL>";
  const lines = ["", `Worker: ${base}`, "", "Webhook URLs (give each vendor its URL; it signs with the secret named):"];
  const ready = sourceReadiness(sources, isSet);
  for (const { source, unsetWebhook } of ready.filter((r) => r.source.webhook.length)) {
    const state = unsetWebhook.length ? `not ready: set ${unsetWebhook.join(", ")}` : "ready";
    lines.push(`  ${source.name.padEnd(11)} ${base}/webhooks/${source.name}  (${state})`);
  }
  lines.push("", "Polled sources:");
  for (const { source, unsetPoll } of ready.filter((r) => r.source.poll.length)) {
    lines.push(`  ${source.name.padEnd(11)} ${unsetPoll.length ? `not configured: set ${unsetPoll.join(", ")}` : "configured"}`);
  }
  const cdcSources = config.vars?.CDC_SOURCES ?? "app_db";
  lines.push(
    "",
    "Next steps:",
    `  - Status: open ${base}/ and sign in with ADMIN_TOKEN (in ${secretsLabel}), or`,
    `      DOCK_URL=${base} DOCK_ADMIN_TOKEN=<ADMIN_TOKEN> npm run dock -- status`,
    `  - CDC sidecar, next to the database: WORKER_URL=${base} CDC_INGEST_SECRET=<from ${secretsLabel}> CDC_SOURCE=${cdcSources.split(",")[0]} npm run sidecar`,
    `      (CDC_SOURCE must be one of CDC_SOURCES in wrangler.toml: ${cdcSources})`,
    ...fileDrops.map(
      (s) =>
        `  - File drops for ${s}: curl -T orders.csv -H "Authorization: Bearer <${s.toUpperCase()}_FILES_TOKEN>" ${base}/files/${s}/orders.csv`,
    ),
    ...(isSet("ALERT_WEBHOOK_URL")
      ? []
      : [`  - Alerts: put ALERT_WEBHOOK_URL=<a Slack incoming webhook> in ${secretsLabel}; posts are signed with ALERT_SIGNING_SECRET`]),
    `  - A vendor's settings: add NAME=value lines to ${secretsLabel} (or export them) and run \`npm run deploy\` again;`,
    "      a secret already set is kept: to change one, add --replace-secrets NAME",
  );
  return lines.join("\n");
}
