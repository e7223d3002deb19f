#!/usr/bin/env node
// The `dock` CLI: operate Loading Dock against local `wrangler dev` (default) or a deployed Worker
// (--url / DOCK_URL, --token / DOCK_ADMIN_TOKEN). See docs/operations.md.
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { rawPull } from "../scripts/raw-pull.mjs";
import { api, connection, devVars, splitStream, streamPath } from "./lib/client.mjs";
import { AUTH_KINDS, formatScaffold } from "./lib/new-rest-source.mjs";
import { scaffoldSource } from "./lib/new-source.mjs";
import { statusTable } from "./lib/status-table.mjs";
import { testRead, testReadSummary } from "./lib/test-read.mjs";
import { sendTestWebhook } from "./lib/test-webhooks.mjs";

const print = (value) => process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value, null, 2)}\n`);

export function buildProgram() {
  const program = new Command("dock")
    .description("Operate Loading Dock: status, runs, backfills, reconciliation, test webhooks, the raw zone, new sources")
    .addOption(new Option("--url <url>", "the Worker's URL").env("DOCK_URL"))
    .addOption(new Option("--token <token>", "the admin token (default: ADMIN_TOKEN from .dev.vars)").env("DOCK_ADMIN_TOKEN"))
    .showHelpAfterError();
  const conn = () => connection(program.opts());

  program
    .command("status")
    .description("every stream's state, lag vs SLO, last run and 7-day records; exits 1 when something is not fine")
    .option("--json", "print the JSON of GET /status")
    .action(async (o) => {
      const status = await api(conn(), "GET", "/status");
      print(o.json ? status : statusTable(status, { colour: process.stdout.isTTY }));
      if (!status.ok) process.exitCode = 1;
    });

  program
    .command("run <stream>")
    .description("run <source>.<stream> now (a poll, or a full refresh with --full-refresh)")
    .option("--full-refresh", "run a full refresh instead of an incremental poll")
    .option("--force", "run even though the source is paused")
    .action(async (name, o) => {
      // Always named: a full refresh re-reads everything as a snapshot, and is never the Worker's guess.
      const body = { pattern: o.fullRefresh ? "full_refresh" : "poll", ...(o.force ? { force: true } : {}) };
      print(await api(conn(), "POST", `${streamPath(splitStream(name))}/run`, body));
    });

  program
    .command("test-read <stream>")
    .description("read one page of <source>.<stream> as a run would and print what would land (JSONL on stdout); writes nothing")
    .option("--next <json>", "read the page after an earlier test read (the JSON it printed as next page)")
    .option("--cursor <value>", "read from this cursor value instead of the stored one")
    .option("--from-start", "read as if no cursor were stored")
    .option("--full-refresh", "read it as a full refresh (snapshot rows)")
    .option("--json", "print the Worker's whole answer as JSON")
    .action(async (name, o) => {
      const r = await testRead(conn(), name, o);
      if (o.json) return print(r);
      for (const line of r.lines) process.stdout.write(`${line}\n`);
      process.stderr.write(`${testReadSummary(r, name)}\n`);
    });

  program
    .command("backfill <stream>")
    .description("re-read <source>.<stream> from a time (polled: cursor back + poll; webhook: reconcile the range)")
    .requiredOption("--from <time>", "ISO-8601 start, e.g. 2026-11-01T00:00:00Z")
    .option("--to <time>", "ISO-8601 end")
    .action(async (name, o) =>
      print(await api(conn(), "POST", `${streamPath(splitStream(name))}/backfill`, { from: o.from, ...(o.to ? { to: o.to } : {}) })),
    );

  program
    .command("reconcile <source>")
    .description("reconcile a webhook source now against the vendor's listing (of events, or of objects changed)")
    .option("--from <time>", "ISO-8601 start of the window")
    .option("--to <time>", "ISO-8601 end of the window")
    .option("--wait", "run it in this request and print what it counted: listed, held (or received), recovered, missing")
    .action(async (source, o) =>
      print(
        await api(conn(), "POST", `/admin/sources/${encodeURIComponent(source)}/reconcile`, {
          ...(o.from ? { from: o.from } : {}),
          ...(o.to ? { to: o.to } : {}),
          ...(o.wait ? { wait: true } : {}),
        }),
      ),
    );

  program
    .command("pause <source>")
    .description("stop scheduled runs of a source (webhooks are still accepted)")
    .option("--reason <text>", "why, for the audit and the status page")
    .action(async (source, o) =>
      print(await api(conn(), "POST", `/admin/sources/${encodeURIComponent(source)}/pause`, o.reason ? { reason: o.reason } : {})),
    );

  program
    .command("resume <source>")
    .description("resume scheduled runs of a source")
    .action(async (source) => print(await api(conn(), "POST", `/admin/sources/${encodeURIComponent(source)}/resume`, {})));

  program
    .command("cursor <stream> [value]")
    .description("set <source>.<stream>'s cursor to value, or forget it with --reset")
    .option("--reset", "forget the cursor: the next poll reads the whole stream")
    .action(async (name, value, o) => {
      if (!o.reset && value === undefined) throw new Error("give a cursor value or --reset");
      print(await api(conn(), "PUT", `${streamPath(splitStream(name))}/cursor`, { cursor: o.reset ? null : value }));
    });

  program
    .command("slo <stream>")
    .description("declare <source>.<stream>'s SLO: minutes of silence before it is late, empty runs before zero-record")
    .requiredOption("--minutes <n>", "max silence in minutes", (v) => Number.parseInt(v, 10))
    .option("--zero-runs <n>", "empty runs before zero-record", (v) => Number.parseInt(v, 10), 3)
    .action(async (name, o) =>
      print(
        await api(conn(), "PUT", `${streamPath(splitStream(name))}/slo`, { max_silence_minutes: o.minutes, zero_record_runs: o.zeroRuns }),
      ),
    );

  program
    .command("runs")
    .description("recent runs, newest first")
    .option("--source <source>")
    .option("--stream <stream>")
    .option("--status <status>", "running | succeeded | failed")
    .option("--limit <n>", "how many", "20")
    .action(async (o) => {
      const q = new URLSearchParams(
        Object.entries({ source: o.source, stream: o.stream, status: o.status, limit: o.limit }).filter(([, v]) => v),
      );
      const { runs } = await api(conn(), "GET", `/admin/runs?${q}`);
      for (const r of runs)
        print(
          `${r.started_at}  ${r.status.padEnd(9)}  ${`${r.source}.${r.stream}`.padEnd(30)}  ${String(r.records).padStart(7)} rec  ${r.id}${r.error ? `\n    ${r.error}` : ""}`,
        );
    });

  const dlq = program.command("dlq").description("parked dead letters");
  dlq.command("list", { isDefault: true }).action(async () => print(await api(conn(), "GET", "/admin/dlq")));
  dlq
    .command("redrive")
    .description("send parked dead letters back to their queue")
    .option("--queue <queue>", "ingest | jobs")
    .action(async (o) => print(await api(conn(), "POST", "/admin/dlq/redrive", o.queue ? { queue: o.queue } : {})));

  program
    .command("send-test-webhook <source>")
    .description("send one webhook signed with the local secret (stripe, svix, github, acme)")
    .action(async (source) => {
      const { url } = connection({ ...program.opts(), token: program.opts().token ?? "unused" });
      const r = await sendTestWebhook({ url, source, vars: devVars() });
      print(`${source} ${r.id} → HTTP ${r.status} ${r.answer}`);
      if (r.status >= 300) process.exitCode = 1;
    });

  const raw = program.command("raw").description("the raw zone");
  raw
    .command("pull <dir>")
    .description("copy the raw zone into <dir> with the same keys (DuckDB reads it with hive_partitioning)")
    .option("--prefix <prefix>", "only keys under this prefix", "raw/")
    .action(async (dir, o) => {
      const { pulled, skipped, root } = await rawPull({ ...conn(), dir, prefix: o.prefix });
      print(`pulled ${pulled} objects (${skipped} already there) into ${root}`);
    });

  program
    .command("query <sql>")
    .description("run DuckDB SQL over the raw zone (view raw: partitions, _dock fields, data); pulls new objects into a local copy first")
    .option("--latest", "raw keeps one row per (source, stream, key): the newest by received_at, then version")
    .option("--distinct", "raw keeps one row per _dock.id (its first landing)")
    .addOption(new Option("--format <format>", "how to print the result").choices(["table", "csv", "json"]).default("table"))
    .option("--dir <dir>", "query a folder holding raw/ as it is (e.g. one `raw pull` filled); pulls nothing")
    .option("--s3", "pull from the bucket through R2's S3 API (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY) instead of the admin API")
    .option("--bucket <name>", "the bucket for --s3 (default: DOCK_R2_BUCKET, else the RAW bucket in wrangler.toml)")
    .option("--account-id <id>", "the Cloudflare account for --s3 (default: CLOUDFLARE_ACCOUNT_ID)")
    .option("--s3-endpoint <url>", "another S3 endpoint for --s3 (default: R2_S3_ENDPOINT, else the account's R2 endpoint)")
    .option("--cache <dir>", "where the local copy lives (default .dock/lake/<Worker or bucket>)")
    .option("--no-pull", "query the local copy as it is, without pulling")
    .option("--prefix <prefix>", "pull only keys under this prefix", "raw/")
    .action(async (sql, o) => {
      if (o.latest && o.distinct) throw new Error("--latest and --distinct pick different views: give one");
      const { lakeCopy } = await import("./lib/lake-copy.mjs");
      const { queryLake, formatCsv, formatJsonLines, formatTable } = await import("./lib/query.mjs");
      const dir = await lakeCopy(o, conn);
      const result = await queryLake({ dir, sql, view: o.latest ? "latest" : o.distinct ? "distinct" : "all" });
      print(o.format === "csv" ? formatCsv(result) : o.format === "json" ? formatJsonLines(result) : formatTable(result));
    });

  program
    .command("new-source <name>")
    .description("scaffold src/sources/<name>/ (definition, fixture builder, test) and add it to the registry")
    .option("--root <dir>", "the checkout to scaffold into", ".")
    .option("--rest", "a polled REST API (declarative: auth, one stream, pagination, cursor) instead of a webhook sender")
    .addOption(new Option("--auth <kind>", "--rest: how the API authenticates").choices(AUTH_KINDS).default("bearer"))
    .option("--stream <stream>", "--rest: the stream's name (and path /v1/<stream>)", "items")
    .action((name, o) => {
      const r = scaffoldSource(resolve(o.root), name, o.rest ? { rest: true, auth: o.auth, stream: o.stream } : {});
      const head = [`created ${r.files.join(", ")}`, `added ${name} to src/sources/registry.ts`];
      if (!o.rest) {
        print([...head, `next: npx vitest run --project worker src/sources/${name}; set ${r.secret} in .dev.vars`].join("\n"));
        return;
      }
      formatScaffold(resolve(o.root), r.dir);
      const width = Math.max(...Object.keys(r.vars).map((k) => k.length)) + 2;
      print(
        [
          ...head,
          "next (docs/polling.md, the walk-through):",
          `  1. edit src/sources/${name}/index.ts to your API: path, records, primaryKey, cursor, pagination`,
          `  2. npx vitest run --project worker src/sources/${name}`,
          "  3. add to .dev.vars:",
          ...Object.entries(r.vars).map(([k, what]) => `       ${`${k}=…`.padEnd(width)}   # ${what}`),
          `  4. npm start, then: npm run dock -- test-read ${name}.${o.stream}   (one page, nothing written)`,
          `  5. npm run dock -- run ${name}.${o.stream}, then: npm run dock -- query "SELECT count(*) FROM raw WHERE source = '${name}'"`,
        ].join("\n"),
      );
    });
  program
    .command("deploy")
    .description(
      "deploy to Cloudflare in one go (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID): create what is missing, apply the D1 migrations, set the secrets, deploy",
    )
    .option("--dry-run", "print every step it would take; call nothing, write nothing")
    .option("--sources <names>", "comma-separated sources whose unset settings to ask for (in a terminal)", splitList)
    .option(
      "--file-drops <sources>",
      "comma-separated sources that take file drops (a <SOURCE>_FILES_TOKEN each); none: no file drops",
      splitList,
    )
    .option("--secrets-file <path>", "where our generated secrets are saved and vendor settings read (NAME=value lines)", ".deploy.vars")
    .option("--replace-secrets <names>", "comma-separated secrets to set again although they are set (a rotated vendor secret)", splitList)
    .option("--root <dir>", "the checkout to deploy", ".")
    .action(async (o) => {
      const { runDeploy } = await import("./lib/deploy.mjs");
      const { terminalIO } = await import("./lib/deploy-steps.mjs");
      const fileDrops = o.fileDrops?.includes("none") ? [] : o.fileDrops;
      const options = { dryRun: o.dryRun, sources: o.sources, fileDrops, secretsFile: o.secretsFile, replaceSecrets: o.replaceSecrets };
      await runDeploy({ root: resolve(o.root), options, io: terminalIO() });
    });

  program
    .command("destroy")
    .description("remove what `dock deploy` created (Worker, queues, DLQs, D1; the bucket only when empty or with --delete-bucket)")
    .option("--dry-run", "print every step it would take; call nothing, delete nothing")
    .option("--yes", "do not ask for the typed confirmation (scripts)")
    .option("--delete-bucket", "also the raw zone's bucket when it holds objects (they are expired first: R2 deletes only empty buckets)")
    .option("--root <dir>", "the checkout that was deployed", ".")
    .action(async (o) => {
      const { runDestroy } = await import("./lib/destroy.mjs");
      const { terminalIO } = await import("./lib/deploy-steps.mjs");
      await runDestroy({
        root: resolve(o.root),
        options: { dryRun: o.dryRun, yes: o.yes, deleteBucket: o.deleteBucket },
        io: terminalIO(),
      });
    });
  return program;
}

const splitList = (value) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/dock")) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => {
      process.stderr.write(`dock: ${err.message}\n`);
      process.exitCode = 2;
    });
}
