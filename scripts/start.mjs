#!/usr/bin/env node
// `npm start`: the whole local stack with no Cloudflare account — D1 migrations applied locally,
// `wrangler dev` (workerd with local D1, R2 and Queues), and a demo that sends signed webhooks.
// Flags: --no-demo, --exit-after-demo (used by the smoke test), --port N, --persist-to DIR,
// --inspector-port N (so several local stacks can run side by side).
import { spawn, spawnSync } from "node:child_process";
import { loadDevVars } from "./dev-vars.mjs";
import { sendDemoWebhooks } from "./demo-webhooks.mjs";
import { startDemoVendor } from "../demo/index.mjs";

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const port = Number(option("--port") ?? 8787);
const persist = option("--persist-to") ? ["--persist-to", option("--persist-to")] : [];
const inspector = option("--inspector-port") ? ["--inspector-port", option("--inspector-port")] : [];
const base = `http://127.0.0.1:${port}`;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const say = (text) => console.log(`\x1b[36m[dock]\x1b[0m ${text}`);

const vars = loadDevVars();
say("applying D1 migrations to the local database");
const migrate = spawnSync("node_modules/.bin/wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persist], {
  env,
  encoding: "utf8",
});
if (migrate.status !== 0) {
  console.error(migrate.stdout, migrate.stderr);
  process.exit(1);
}

// The demo vendor: a local fake API that the `demo` source polls (paginated, with 429s and 503s).
const vendor = await startDemoVendor({ port: Number(option("--vendor-port") ?? 0), touchPerMinute: 30 });
say(`demo vendor (a fake REST API with pagination, 429s and 503s) on ${vendor.url}`);
const demoVars = ["--var", `DEMO_VENDOR_URL:${vendor.url}`, "--var", "DEMO_VENDOR_TOKEN:demo-token-not-a-secret"];

say(`starting wrangler dev on ${base}`);
const dev = spawn(
  "node_modules/.bin/wrangler",
  ["dev", "--port", String(port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false", ...persist, ...inspector, ...demoVars],
  {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  },
);
const quiet = args.includes("--exit-after-demo");
dev.stdout.on("data", (d) => quiet || process.stdout.write(d));
dev.stderr.on("data", (d) => quiet || process.stderr.write(d));
const stop = (code) => {
  vendor.stop();
  dev.kill("SIGTERM");
  setTimeout(() => process.exit(code), 300);
};
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
dev.on("exit", (code) => {
  say(`wrangler dev exited (${code})`);
  process.exit(code ?? 1);
});

let tick;
async function waitFor(check, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

try {
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, "wrangler dev");
  say("worker is up");
  if (!args.includes("--no-demo")) {
    const sent = await sendDemoWebhooks(base, vars);
    say(`demo sent ${sent.length} signed webhooks: ${sent.map((s) => `${s.source}→${s.status}`).join(" ")}`);
    const headers = { authorization: `Bearer ${vars.ADMIN_TOKEN}` };
    let keys = [];
    await waitFor(async () => {
      const res = await fetch(`${base}/admin/raw?prefix=raw/`, { headers });
      keys = (await res.json()).objects.map((o) => o.key);
      return keys.length >= 2;
    }, "raw objects from the demo");
    say(`raw objects written:\n  ${keys.join("\n  ")}`);
    // Cron triggers do not fire by themselves under wrangler dev: fire the scheduler tick, as cron would.
    await fetch(`${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    let polled = [];
    await waitFor(
      async () => {
        const res = await fetch(`${base}/admin/raw?prefix=raw/source=demo/`, { headers });
        polled = (await res.json()).objects.map((o) => o.key);
        return polled.length >= 1;
      },
      "records polled from the demo vendor",
      90_000,
    );
    say(
      `the scheduler tick polled the demo vendor: ${polled.length} objects so far under raw/source=demo/ (more arrive as its pages are fetched)`,
    );
    tick = setInterval(() => fetch(`${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`).catch(() => {}), 60_000);
    say("look around:");
    console.log(`  curl -H 'Authorization: Bearer ${vars.ADMIN_TOKEN}' ${base}/status`);
    console.log(`  curl -H 'Authorization: Bearer ${vars.ADMIN_TOKEN}' '${base}/admin/raw?prefix=raw/'`);
    console.log("  npm run raw:pull -- ./lake     # then read ./lake with duckdb (hive_partitioning=true)");
  }
  if (args.includes("--exit-after-demo")) {
    clearInterval(tick);
    stop(0);
  } else say("running; Ctrl-C stops it");
} catch (err) {
  console.error(err.message);
  stop(1);
}
