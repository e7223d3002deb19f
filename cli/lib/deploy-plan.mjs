import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_KEYS_WITH_RESOURCES, CONFIG_KEYS_WITHOUT_RESOURCES, MANIFEST } from "./deploy-manifest.mjs";

export const GENERATED_CONFIG = "wrangler.deploy.jsonc";
export const SECRETS_FILE = ".deploy.vars";

/** wrangler.toml as wrangler itself reads it (its own TOML reader; no second parser to disagree with it). */
export async function readWranglerConfig(path) {
  if (!existsSync(path)) throw new Error(`no wrangler config at ${path}`);
  const { experimental_readRawConfig } = await import("wrangler");
  return experimental_readRawConfig({ config: path }).rawConfig;
}

/**
 * The secrets the code says it reads: the `interface Env` of src/env.d.ts (secrets are not in
 * wrangler.toml, so they are declared there) and the names in .dev.vars.example.
 */
export function declaredSecrets(root, files = {}) {
  const envTypes = files.envTypes ?? join(root, "src", "env.d.ts");
  const example = files.devVarsExample ?? join(root, ".dev.vars.example");
  const names = new Map();
  if (existsSync(envTypes)) {
    const body = /interface Env\s*\{([\s\S]*?)\n\}/.exec(readFileSync(envTypes, "utf8"))?.[1] ?? "";
    for (const m of body.matchAll(/^\s*([A-Z][A-Z0-9_]*)\??\s*:/gm)) names.set(m[1], "src/env.d.ts");
  }
  if (existsSync(example)) {
    for (const m of readFileSync(example, "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm))
      if (!names.has(m[1])) names.set(m[1], ".dev.vars.example");
  }
  return names;
}

/** The file-drop token's name for a source: `acme` → `ACME_FILES_TOKEN`. */
export const filesTokenName = (source) => `${source.toUpperCase().replace(/[^A-Z0-9]/g, "_")}${MANIFEST.secrets.filesToken.suffix}`;

/**
 * Every secret the deploy knows: ours (generated), file-drop tokens (generated, per --file-drops
 * source), optional ones, and each source's settings (vendor: given in the environment or the
 * secrets file, or asked for). `required` marks what a source needs to take webhooks or to poll.
 */
export function secretCatalog({ sources, fileDrops = [], manifest = MANIFEST }) {
  const catalog = new Map();
  for (const [name, spec] of Object.entries(manifest.secrets.generated)) catalog.set(name, { name, kind: "generated", ...spec });
  for (const source of fileDrops) {
    const name = filesTokenName(source);
    catalog.set(name, { name, kind: "generated", format: manifest.secrets.filesToken.format, why: `file drops of ${source}` });
  }
  for (const [name, why] of Object.entries(manifest.secrets.optional)) catalog.set(name, { name, kind: "optional", why });
  for (const source of sources) {
    const required = new Set([...source.webhook, ...source.poll.flatMap((entry) => entry.split(" or "))]);
    for (const name of source.reads) {
      if (catalog.has(name)) continue;
      const needs = { webhook: source.webhook, poll: source.poll };
      catalog.set(name, { name, kind: "vendor", source: source.name, required: required.has(name), needs });
    }
  }
  return catalog;
}

/**
 * The steps of `dock deploy`, in order, built from the manifest with the names wrangler.toml gives.
 * Each step says what it covers (bindings, queues, DLQs, crons, secrets), so checkPlan can hold it
 * against the config. `problems` lists what the manifest names that the config lacks.
 */
export function buildPlan({ config, sources, fileDrops = [], manifest = MANIFEST }) {
  const problems = [];
  const steps = [];
  const worker = config.name;
  const vars = config.vars ?? {};

  const databases = new Map((config.d1_databases ?? []).map((d) => [d.binding, d]));
  for (const [binding, why] of Object.entries(manifest.d1)) {
    const db = databases.get(binding);
    if (!db) {
      problems.push(`the deploy manifest names D1 binding ${binding}, which wrangler.toml does not have`);
      continue;
    }
    steps.push({
      id: `d1:${binding}`,
      kind: "d1",
      title: `D1 database ${db.database_name} (binding ${binding}: ${why})`,
      name: db.database_name,
      binding,
      create: ["d1", "create", db.database_name],
      covers: [`d1:${binding}`],
    });
  }

  const buckets = new Map((config.r2_buckets ?? []).map((b) => [b.binding, b]));
  for (const [binding, why] of Object.entries(manifest.r2)) {
    const bucket = buckets.get(binding);
    if (!bucket) {
      problems.push(`the deploy manifest names R2 binding ${binding}, which wrangler.toml does not have`);
      continue;
    }
    steps.push({
      id: `r2:${binding}`,
      kind: "r2",
      title: `R2 bucket ${bucket.bucket_name} (binding ${binding}: ${why})`,
      name: bucket.bucket_name,
      binding,
      create: ["r2", "bucket", "create", bucket.bucket_name],
      covers: [`r2:${binding}`],
    });
  }

  const queueNames = configQueues(config);
  for (const [queue, spec] of Object.entries(manifest.queues)) {
    for (const [name, covers, title] of [
      [queue, [`queue:${queue}`, ...(spec.producer ? [`producer:${spec.producer}:${queue}`] : [])], `queue ${queue} (${spec.why})`],
      [spec.dlq, [`dlq:${spec.dlq}:${queue}`], `dead-letter queue ${spec.dlq} (of ${queue})`],
    ]) {
      if (!queueNames.has(name)) problems.push(`the deploy manifest names queue ${name}, which wrangler.toml does not use`);
      steps.push({ id: `queue:${name}`, kind: "queue", title, name, create: ["queues", "create", name], covers });
    }
  }

  for (const n of manifest.notifications) {
    const bucket = buckets.get(n.bucket)?.bucket_name;
    if (!bucket) continue;
    const prefix = vars[n.prefixVar] ?? n.defaultPrefix;
    steps.push({
      id: `notification:${bucket}:${n.queue}`,
      kind: "notification",
      title: `R2 event notification ${bucket}/${prefix}* → ${n.queue} (${n.why})`,
      bucket,
      queue: n.queue,
      prefix,
      eventTypes: n.eventTypes,
      create: [
        "r2",
        "bucket",
        "notification",
        "create",
        bucket,
        ...n.eventTypes.flatMap((t) => ["--event-type", t]),
        "--prefix",
        prefix,
        "--queue",
        n.queue,
      ],
      covers: [`notification:${n.queue}`],
    });
  }

  steps.push({
    id: "config",
    kind: "config",
    title: `write ${GENERATED_CONFIG}: wrangler.toml with the ids created above (git-ignored; wrangler.toml is not touched)`,
    covers: [],
  });

  for (const binding of Object.keys(manifest.d1)) {
    if (!databases.has(binding)) continue;
    steps.push({
      id: `migrations:${binding}`,
      kind: "migrations",
      title: `apply the D1 migrations (${databases.get(binding).migrations_dir ?? "migrations"}/) to ${binding}, remote`,
      command: ["d1", "migrations", "apply", binding, "--remote", "--config", GENERATED_CONFIG],
      covers: [],
    });
  }

  const catalog = secretCatalog({ sources, fileDrops, manifest });
  steps.push({
    id: "secrets",
    kind: "secrets",
    title: "secrets: generate ours that are not set, take the vendors' from the environment or the secrets file",
    catalog,
    covers: [...catalog.keys()].map((name) => `secret:${name}`),
  });

  const doCovers = [];
  const doBindings = new Map((config.durable_objects?.bindings ?? []).map((b) => [b.name, b]));
  for (const [binding, spec] of Object.entries(manifest.durableObjects)) {
    if (doBindings.get(binding)?.class_name !== spec.className)
      problems.push(`the deploy manifest names Durable Object ${binding} (${spec.className}), which wrangler.toml does not bind`);
    doCovers.push(`durable_object:${binding}:${spec.className}`);
  }
  const tags = new Set((config.migrations ?? []).map((m) => m.tag));
  for (const tag of manifest.migrations) {
    if (!tags.has(tag)) problems.push(`the deploy manifest names Durable Object migration ${tag}, which wrangler.toml does not have`);
    doCovers.push(`migration:${tag}`);
  }
  const crons = new Set(config.triggers?.crons ?? []);
  for (const cron of Object.keys(manifest.crons)) {
    if (!crons.has(cron)) problems.push(`the deploy manifest names cron "${cron}", which wrangler.toml does not have`);
  }
  steps.push({
    id: "deploy",
    kind: "deploy",
    title: [
      `deploy the Worker ${worker} with ${GENERATED_CONFIG} (and the secrets not yet set)`,
      ...Object.entries(manifest.durableObjects).map(([b, s]) => `Durable Object ${s.className} (binding ${b}: ${s.why})`),
      ...manifest.migrations.map((tag) => `Durable Object migration ${tag} (applied once; wrangler deploy skips tags already applied)`),
      ...Object.entries(manifest.crons).map(([cron, why]) => `cron "${cron}": ${why}`),
      "queue producers and consumers as wrangler.toml declares them",
    ].join("\n     "),
    command: ["deploy", "--config", GENERATED_CONFIG],
    covers: [...doCovers, ...Object.keys(manifest.crons).map((c) => `cron:${c}`)],
  });

  return { worker, steps, problems, catalog };
}

function configQueues(config) {
  const names = new Set();
  for (const p of config.queues?.producers ?? []) names.add(p.queue);
  for (const c of config.queues?.consumers ?? []) {
    names.add(c.queue);
    if (c.dead_letter_queue) names.add(c.dead_letter_queue);
  }
  return names;
}

/**
 * What in the config or the declared secrets has no step in the plan (and what the plan names
 * that the config lacks). Empty means the deploy knows everything it must create or set.
 */
export function checkPlan(config, plan, declared = new Map()) {
  const covered = new Set(plan.steps.flatMap((s) => s.covers));
  const problems = [...plan.problems];
  const miss = (cover, what) => {
    if (!covered.has(cover)) problems.push(`${what} has no step in dock deploy (declare it in cli/lib/deploy-manifest.mjs)`);
  };

  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS_WITH_RESOURCES.has(key) && !CONFIG_KEYS_WITHOUT_RESOURCES.has(key))
      problems.push(`wrangler.toml has \`${key}\`, which dock deploy does not provision (declare it in cli/lib/deploy-manifest.mjs)`);
  }
  for (const db of config.d1_databases ?? []) miss(`d1:${db.binding}`, `D1 binding ${db.binding} (${db.database_name})`);
  for (const b of config.r2_buckets ?? []) miss(`r2:${b.binding}`, `R2 binding ${b.binding} (${b.bucket_name})`);
  for (const p of config.queues?.producers ?? []) {
    miss(`queue:${p.queue}`, `queue ${p.queue}`);
    miss(`producer:${p.binding}:${p.queue}`, `queue producer binding ${p.binding} (→ ${p.queue})`);
  }
  const dlqs = new Set((config.queues?.consumers ?? []).map((c) => c.dead_letter_queue).filter(Boolean));
  for (const c of config.queues?.consumers ?? []) {
    // A dead-letter queue's own consumer (the drain into D1) is covered by its dlq step.
    if (!dlqs.has(c.queue)) miss(`queue:${c.queue}`, `queue ${c.queue} (consumer)`);
    if (c.dead_letter_queue) miss(`dlq:${c.dead_letter_queue}:${c.queue}`, `dead-letter queue ${c.dead_letter_queue} of ${c.queue}`);
  }
  for (const b of config.durable_objects?.bindings ?? [])
    miss(`durable_object:${b.name}:${b.class_name}`, `Durable Object binding ${b.name} (${b.class_name})`);
  for (const m of config.migrations ?? []) miss(`migration:${m.tag}`, `Durable Object migration ${m.tag}`);
  for (const cron of config.triggers?.crons ?? []) miss(`cron:${cron}`, `cron "${cron}"`);

  const vars = config.vars ?? {};
  const notDeployed = MANIFEST.secrets.notDeployed;
  for (const [name, where] of declared) {
    if (name in vars || name in notDeployed || name.endsWith(MANIFEST.secrets.filesToken.suffix)) continue;
    miss(`secret:${name}`, `secret ${name} (${where})`);
  }
  return problems;
}

/** The plan as `--dry-run` prints it: every step, and what it would run. Nothing is called. */
export function formatPlan(plan, { secretsFile = SECRETS_FILE } = {}) {
  const lines = [`dock deploy --dry-run: the steps for Worker ${plan.worker} (nothing is called, nothing is written)`, ""];
  lines.push(
    "0. read what exists: wrangler d1 list --json · wrangler r2 bucket list · wrangler queues list --page N · " +
      "wrangler r2 bucket notification list <bucket> · wrangler secret list --name <worker>",
  );
  plan.steps.forEach((step, i) => {
    const n = `${i + 1}.`;
    if (step.create) lines.push(`${n} ${step.title}`, `     if missing: wrangler ${step.create.join(" ")}`);
    else if (step.kind === "secrets") lines.push(`${n} ${step.title}`, ...formatCatalog(step.catalog, secretsFile));
    else if (step.command) lines.push(`${n} ${step.title}`, `     wrangler ${step.command.join(" ")}`);
    else lines.push(`${n} ${step.title}`);
  });
  lines.push(`${plan.steps.length + 1}. print the Worker's URL, each vendor's webhook URL and the next steps`);
  return lines.join("\n");
}

function formatCatalog(catalog, secretsFile) {
  const out = [];
  const all = [...catalog.values()];
  for (const s of all.filter((s) => s.kind === "generated"))
    out.push(
      `     ${s.name}: generated (${s.format === "whsec" ? "whsec_<base64 of 32 random bytes>" : "32 random bytes, base64url"}) unless set; saved to ${secretsFile}`,
    );
  for (const s of all.filter((s) => s.kind === "optional")) out.push(`     ${s.name}: set when given (optional: ${s.why})`);
  const bySource = new Map();
  for (const s of all.filter((s) => s.kind === "vendor")) bySource.set(s.source, [...(bySource.get(s.source) ?? []), s]);
  for (const [source, list] of bySource) {
    const { webhook, poll } = list[0].needs;
    const other = list.filter((s) => !s.required).map((s) => s.name);
    const parts = [
      ...(webhook.length ? [`webhooks need ${webhook.join(", ")}`] : []),
      ...(poll.length ? [`polling needs ${poll.join(", ")}`] : []),
      ...(other.length ? [`also reads ${other.join(", ")}`] : []),
    ];
    out.push(`     ${source}: ${parts.join("; ")}`);
  }
  out.push(
    `     (vendor settings: from the environment or ${secretsFile}, asked for with --sources in a terminal; a secret already set is left as it is)`,
  );
  return out;
}
