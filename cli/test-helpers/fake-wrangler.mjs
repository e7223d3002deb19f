#!/usr/bin/env node
// A stand-in for `wrangler` 4.86 in the deploy/destroy tests: no Cloudflare account exists here.
// It keeps an account's state (D1 databases, buckets, queues, event notifications, lifecycle rules,
// Workers and their secrets) in the JSON file FAKE_WRANGLER_STATE, records every call, refuses
// unknown commands and flags as wrangler's strict parser does, and answers in wrangler's own
// formats (banner, cli-table3 tables, labelled values, --json). FAKE_WRANGLER_FAIL="<cmd prefix>"
// makes a matching call fail like a refused API request.
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const statePath = process.env.FAKE_WRANGLER_STATE;
if (!statePath) fail("FAKE_WRANGLER_STATE is not set");
const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : {};
state.account ??= "fake-account";
state.d1 ??= [];
state.buckets ??= [];
state.queues ??= [];
state.notifications ??= {};
state.workers ??= {};
state.d1Applied ??= {};
state.calls ??= [];
const argv = process.argv.slice(2);
state.calls.push(argv);
save();

const BANNER = " ⛅️ wrangler 4.86.0\n───────────────────";
const BOOLEAN = new Set(["json", "remote", "local", "force", "skip-confirmation", "y", "dry-run"]);

function save() {
  writeFileSync(statePath, JSON.stringify(state, null, 2));
}
function out(text) {
  process.stdout.write(`${text}\n`);
}
function fail(message, code = 1) {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
  process.exit(code);
}
function apiFail(path, message, code) {
  fail(`A request to the Cloudflare API (/accounts/${state.account}${path}) failed.\n\n  ${message} [code: ${code}]`);
}

function parse(args) {
  const positional = [];
  const flags = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--") || /^-[a-z]$/.test(a)) {
      const [key, inline] = a.replace(/^--?/, "").split(/=(.*)/s);
      if (BOOLEAN.has(key)) flags[key] = true;
      else if (inline !== undefined) flags[key] = [...(flags[key] ?? []), inline];
      else if (i + 1 < args.length) flags[key] = [...(flags[key] ?? []), args[++i]];
      else fail(`Not enough arguments following: ${key}`);
    } else positional.push(a);
  }
  return { positional, flags };
}

const COMMANDS = {
  "d1 list": { flags: ["json"], run: d1List },
  "d1 create": { args: 1, flags: [], run: d1Create },
  "d1 delete": { args: 1, flags: ["skip-confirmation", "y"], run: d1Delete },
  "d1 migrations apply": { args: 1, flags: ["remote", "config"], run: d1MigrationsApply },
  "r2 bucket list": { flags: [], run: r2List },
  "r2 bucket create": { args: 1, flags: [], run: r2Create },
  "r2 bucket delete": { args: 1, flags: [], run: r2Delete },
  "r2 bucket info": { args: 1, flags: ["json"], run: r2Info },
  "r2 bucket notification list": { args: 1, flags: [], run: notificationList },
  "r2 bucket notification create": { args: 1, flags: ["event-type", "event-types", "prefix", "suffix", "queue"], run: notificationCreate },
  "r2 bucket notification delete": { args: 1, flags: ["queue"], run: notificationDelete },
  "r2 bucket lifecycle list": { args: 1, flags: [], run: lifecycleList },
  "r2 bucket lifecycle add": { args: [1, 3], flags: ["expire-days", "force"], run: lifecycleAdd },
  "queues list": { flags: ["page"], run: queuesList },
  "queues create": { args: 1, flags: [], run: queuesCreate },
  "queues delete": { args: 1, flags: [], run: queuesDelete },
  "secret list": { flags: ["name", "format"], run: secretList },
  deploy: { flags: ["config", "secrets-file"], run: deploy },
  delete: { args: [0, 1], flags: ["force"], run: deleteWorker },
};

const { positional, flags } = parse(argv);
const one = (flag) => flags[flag]?.at(-1);
const key = [4, 3, 2, 1].map((n) => positional.slice(0, n).join(" ")).find((k) => COMMANDS[k]);
if (!key) fail(`Unknown arguments: ${argv.join(" ")}`);
const spec = COMMANDS[key];
const rest = positional.slice(key.split(" ").length);
const [min, max] = Array.isArray(spec.args) ? spec.args : [spec.args ?? 0, spec.args ?? 0];
if (rest.length < min || rest.length > max) fail(`Wrong number of positional arguments for wrangler ${key}: ${rest.join(" ")}`);
for (const flag of Object.keys(flags)) if (!spec.flags.includes(flag)) fail(`Unknown argument: ${flag}`);
if (!process.env.CLOUDFLARE_API_TOKEN)
  fail(
    "In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN.",
  );
const failing = process.env.FAKE_WRANGLER_FAIL;
if (failing && argv.join(" ").startsWith(failing)) apiFail(`/${key.split(" ")[0]}`, "Authentication error", 10000);
spec.run(rest, flags);
save();

function d1List() {
  const rows = state.d1.map((d) => ({
    uuid: d.uuid,
    name: d.name,
    created_at: d.created_at,
    version: "production",
    num_tables: 0,
    file_size: 0,
    jurisdiction: null,
  }));
  if (flags.json) out(JSON.stringify(rows, null, 2));
  else out(`${BANNER}\n${table(rows)}`);
}
function d1Create([name]) {
  if (state.d1.some((d) => d.name === name)) apiFail("/d1/database", "A database with that name already exists", 7502);
  const db = { name, uuid: randomUUID(), created_at: new Date().toISOString() };
  state.d1.push(db);
  out(`${BANNER}\n✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n`);
  out(
    `To access your new D1 Database in your Worker, add the following snippet to your configuration file:\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${name}"\ndatabase_id = "${db.uuid}"`,
  );
}
function d1Delete([name]) {
  if (!flags["skip-confirmation"] && !flags.y) fail("fake wrangler: d1 delete would ask for confirmation");
  const i = state.d1.findIndex((d) => d.name === name);
  if (i < 0) fail(`Couldn't find DB with name '${name}'`);
  state.d1.splice(i, 1);
  out(`${BANNER}\nDeleted '${name}' successfully.`);
}
function readConfig() {
  const path = resolve(one("config") ?? "wrangler.toml");
  if (!path.endsWith(".jsonc") && !path.endsWith(".json")) fail(`fake wrangler reads only JSON configs (got ${path})`);
  if (!existsSync(path)) fail(`Could not read file: ${path}`);
  const text = readFileSync(path, "utf8").replace(/^\s*\/\/.*$/gm, "");
  return { path, config: JSON.parse(text) };
}
function d1MigrationsApply([database]) {
  if (!flags.remote) fail("fake wrangler: only --remote is modelled");
  const { path, config } = readConfig();
  const db = (config.d1_databases ?? []).find((d) => d.binding === database || d.database_name === database);
  if (!db) fail(`Couldn't find a D1 DB with the name or binding '${database}' in your wrangler.json file.`);
  if (!state.d1.some((d) => d.uuid === db.database_id))
    apiFail(`/d1/database/${db.database_id}/query`, "Could not route to /d1/database, perhaps your object identifier is invalid?", 7400);
  const dir = join(dirname(path), db.migrations_dir ?? "migrations");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  state.d1Applied[db.database_id] ??= [];
  const applied = state.d1Applied[db.database_id];
  const pending = files.filter((f) => !applied.includes(f));
  if (pending.length === 0) return out(`${BANNER}\n✅ No migrations to apply!`);
  applied.push(...pending);
  out(
    `${BANNER}\nMigrations to be applied:\n${table(pending.map((name) => ({ name })))}\n${pending.map((p) => `┌─────┐\n│ ${p} │ ✅\n└─────┘`).join("\n")}`,
  );
}
function bucket(name) {
  const b = state.buckets.find((x) => x.name === name);
  if (!b) apiFail(`/r2/buckets/${name}`, "The specified bucket does not exist.", 10006);
  return b;
}
function r2List() {
  const blocks = state.buckets.map((b) => `name:           ${b.name}\ncreation_date:  ${b.creation_date}`);
  out(`${BANNER}\nListing buckets...\n${blocks.join("\n\n")}`);
}
function r2Create([name]) {
  if (state.buckets.some((b) => b.name === name))
    apiFail("/r2/buckets", "The bucket you tried to create already exists, and you own it.", 10004);
  state.buckets.push({ name, creation_date: new Date().toISOString(), objects: 0, lifecycle: [] });
  out(`${BANNER}\nCreating bucket '${name}'...\n✅ Created bucket '${name}' with default storage class of Standard.`);
}
function r2Delete([name]) {
  const b = bucket(name);
  if (b.objects > 0) apiFail(`/r2/buckets/${name}`, "The bucket you tried to delete is not empty.", 10008);
  state.buckets = state.buckets.filter((x) => x !== b);
  delete state.notifications[name];
  out(`${BANNER}\nDeleting bucket ${name}.\nDeleted bucket ${name}.`);
}
function r2Info([name]) {
  const b = bucket(name);
  const info = {
    name,
    created: b.creation_date,
    location: "WEUR",
    default_storage_class: "Standard",
    object_count: b.objects.toLocaleString("en-US"),
    bucket_size: `${b.objects * 1000} B`,
  };
  if (flags.json) out(JSON.stringify(info, null, 2));
  else
    out(
      `${BANNER}\n${Object.entries(info)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}`,
    );
}
function notificationList([name]) {
  bucket(name);
  const rules = state.notifications[name] ?? [];
  const blocks = rules.map(
    (r) =>
      `rule_id:     ${r.ruleId}\ncreated_at:  ${r.createdAt}\nqueue_name:  ${r.queue}\nprefix:      ${r.prefix || "(all prefixes)"}\nsuffix:      ${r.suffix || "(all suffixes)"}\nevent_type:  ${r.actions.join(",")}`,
  );
  out(`${BANNER}\nFetching notification rules for bucket ${name}...\n${blocks.join("\n\n")}`);
}
function notificationCreate([name]) {
  bucket(name);
  const types = [...(flags["event-type"] ?? []), ...(flags["event-types"] ?? [])];
  const queue = one("queue");
  if (types.length === 0 || !queue) fail("Missing required arguments: event-types, queue");
  const actions = {
    "object-create": ["PutObject", "CompleteMultipartUpload", "CopyObject"],
    "object-delete": ["DeleteObject", "LifecycleDeletion"],
  };
  for (const t of types)
    if (!actions[t]) fail(`Invalid values:\n  Argument: event-types, Given: "${t}", Choices: "object-create", "object-delete"`);
  if (!state.queues.some((q) => q.name === queue))
    apiFail(`/event_notifications/r2/${name}/configuration/queues/${queue}`, "queue not found", 11000);
  state.notifications[name] ??= [];
  state.notifications[name].push({
    ruleId: randomUUID(),
    createdAt: new Date().toISOString(),
    queue,
    prefix: one("prefix") ?? "",
    suffix: one("suffix") ?? "",
    actions: types.flatMap((t) => actions[t]),
  });
  out(`${BANNER}\nEvent notification rule created successfully!`);
}
function notificationDelete([name]) {
  bucket(name);
  const queue = one("queue");
  state.notifications[name] = (state.notifications[name] ?? []).filter((r) => r.queue !== queue);
  out(`${BANNER}\nDeleting event notifications rules associated with queue ${queue}...\nEvent notification rule deleted successfully!`);
}
function lifecycleList([name]) {
  const b = bucket(name);
  if (b.lifecycle.length === 0)
    return out(`${BANNER}\nListing lifecycle rules for bucket '${name}'...\nThere are no lifecycle rules for bucket '${name}'.`);
  const blocks = b.lifecycle.map(
    (r) => `name:     ${r.name}\nenabled:  Yes\nprefix:   ${r.prefix || "(all prefixes)"}\naction:   Expire objects after ${r.days} days`,
  );
  out(`${BANNER}\nListing lifecycle rules for bucket '${name}'...\n${blocks.join("\n\n")}`);
}
function lifecycleAdd([name, rule, prefix]) {
  const b = bucket(name);
  if (!rule) fail("Must specify a rule name.");
  if (one("expire-days") === undefined) fail("Must specify at least one action.");
  if (!prefix && !flags.force) fail("fake wrangler: a rule without a prefix would ask for confirmation");
  if (b.lifecycle.some((r) => r.name === rule)) apiFail(`/r2/buckets/${name}/lifecycle`, "Rule ids must be unique", 10040);
  b.lifecycle.push({ name: rule, prefix: prefix ?? "", days: Number(one("expire-days")) });
  out(`${BANNER}\nAdding lifecycle rule '${rule}' to bucket '${name}'...\n✨ Added lifecycle rule '${rule}' to bucket '${name}'.`);
}
function queuesList() {
  const size = Number(process.env.FAKE_QUEUES_PAGE_SIZE ?? 100);
  const page = Number(one("page") ?? 1);
  const rows = state.queues.slice((page - 1) * size, page * size).map((q) => ({
    id: q.id,
    name: q.name,
    created_on: q.created_on,
    modified_on: q.created_on,
    producers: "0",
    consumers: "0",
  }));
  out(`${BANNER}\n${table(rows)}`);
}
function queuesCreate([name]) {
  if (state.queues.some((q) => q.name === name)) apiFail("/queues", "Queue name already taken", 11009);
  state.queues.push({ id: randomUUID().replace(/-/g, ""), name, created_on: new Date().toISOString() });
  out(`${BANNER}\n🌀 Creating queue '${name}'\n✅ Created queue '${name}'`);
}
function queuesDelete([name]) {
  if (!state.queues.some((q) => q.name === name)) fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
  const consumer = Object.entries(state.workers).find(([, w]) => w.queues?.includes(name));
  if (consumer) apiFail(`/queues/${name}`, `Queue ${name} has a consumer (${consumer[0]}); remove it first`, 11005);
  const notifying = Object.entries(state.notifications).find(([, rules]) => rules.some((r) => r.queue === name));
  if (notifying)
    apiFail(`/queues/${name}`, `Queue ${name} receives event notifications of bucket ${notifying[0]}; remove them first`, 11005);
  state.queues = state.queues.filter((q) => q.name !== name);
  out(`${BANNER}\nDeleting queue ${name}.\nDeleted queue ${name}.`);
}
function secretList() {
  const name = one("name");
  const worker = state.workers[name];
  if (!worker)
    fail(
      `Worker "${name}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\nOtherwise, check that the Worker name is correct and you're logged into the right account.`,
    );
  out(
    JSON.stringify(
      Object.keys(worker.secrets).map((n) => ({ name: n, type: "secret_text" })),
      null,
      "  ",
    ),
  );
}
function deploy() {
  const { config } = readConfig();
  for (const db of config.d1_databases ?? [])
    if (!state.d1.some((d) => d.uuid === db.database_id))
      apiFail(`/workers/scripts/${config.name}/versions`, `binding ${db.binding} of type d1 must have a valid \`id\` specified`, 10021);
  for (const b of config.r2_buckets ?? [])
    if (!state.buckets.some((x) => x.name === b.bucket_name))
      apiFail(`/workers/scripts/${config.name}/versions`, `R2 bucket '${b.bucket_name}' not found`, 10085);
  const queues = [
    ...(config.queues?.producers ?? []).map((p) => p.queue),
    ...(config.queues?.consumers ?? []).flatMap((c) => [c.queue, c.dead_letter_queue].filter(Boolean)),
  ];
  for (const q of queues)
    if (!state.queues.some((x) => x.name === q)) fail(`Queue "${q}" does not exist. To create it, run: wrangler queues create ${q}`);
  state.workers[config.name] ??= { secrets: {}, deployments: 0, migrations: [], crons: [], queues: [] };
  const worker = state.workers[config.name];
  const secretsFile = one("secrets-file");
  if (secretsFile) Object.assign(worker.secrets, JSON.parse(readFileSync(secretsFile, "utf8")));
  worker.deployments += 1;
  for (const m of config.migrations ?? []) if (!worker.migrations.includes(m.tag)) worker.migrations.push(m.tag);
  worker.crons = config.triggers?.crons ?? [];
  worker.queues = (config.queues?.consumers ?? []).map((c) => c.queue);
  const targets = [
    `https://${config.name}.${state.account}.workers.dev`,
    ...worker.crons.map((c) => `schedule: ${c}`),
    ...(config.queues?.producers ?? []).map((p) => `Producer for ${p.queue}`),
    ...(config.queues?.consumers ?? []).map((c) => `Consumer for ${c.queue}`),
  ];
  out(
    `${BANNER}\nTotal Upload: 512.00 KiB / gzip: 128.00 KiB\nUploaded ${config.name} (1.00 sec)\nDeployed ${config.name} triggers (0.50 sec)`,
  );
  for (const t of targets) out(`  ${t}`);
  out(`Current Version ID: ${randomUUID()}`);
}
function deleteWorker([name]) {
  if (!flags.force) fail("fake wrangler: delete would ask for confirmation");
  if (!state.workers[name]) apiFail(`/workers/scripts/${name}`, "This Worker does not exist on your account.", 10007);
  delete state.workers[name];
  out(`${BANNER}\nSuccessfully deleted ${name}`);
}

/** cli-table3's default look, as wrangler's logger.table draws it without colours. */
function table(rows) {
  if (rows.length === 0) return "┌┐\n└┘";
  const head = Object.keys(rows[0]);
  const widths = head.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)) + 2);
  const line = (l, m, r) => l + widths.map((w) => "─".repeat(w)).join(m) + r;
  const row = (cells) => `│${cells.map((c, i) => ` ${String(c).padEnd(widths[i] - 1)}`).join("│")}│`;
  return [line("┌", "┬", "┐"), row(head), line("├", "┼", "┤"), ...rows.map((r) => row(head.map((h) => r[h]))), line("└", "┴", "┘")].join(
    "\n",
  );
}
