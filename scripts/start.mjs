#!/usr/bin/env node
// `npm start`: the whole local stack with no Cloudflare account — D1 migrations applied locally,
// `wrangler dev` (workerd with local D1, R2 and Queues), the demo vendor, and a demo that sends
// signed webhooks. Busy default ports are stepped over; the hints printed name the ports used.
// Flags: see USAGE (`npm start -- --help`).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startDemoVendor } from "../demo/index.mjs";
import { sendDemoWebhooks } from "./demo-webhooks.mjs";
import { loadDevVars, readVarsFile } from "./dev-vars.mjs";
import { pickPort } from "./ports.mjs";

const USAGE = `npm start -- [flags]       (npm run dev = npm start -- --no-demo)
  --port N             the Worker's port (default 8787, or the next free one)
  --inspector-port N   the devtools inspector's port (default 9229, or the next free one)
  --vendor-port N      the demo vendor's port (default 8788, or the next free one)
  --persist-to DIR     where local D1 and R2 keep their data (default .wrangler/state)
  --vars FILE          read local secrets from FILE instead of .dev.vars
  --no-demo            start the stack without the demo webhooks and scheduler ticks
  --exit-after-demo    stop once the demo has landed (the smoke test uses it)
A port given as a flag is used as is, and refused when it is taken.
Editing the vars file restarts wrangler dev with the new values.`;

let flags;
try {
  flags = parseArgs({
    options: {
      port: { type: "string" },
      "inspector-port": { type: "string" },
      "vendor-port": { type: "string" },
      "persist-to": { type: "string" },
      vars: { type: "string" },
      "no-demo": { type: "boolean" },
      "exit-after-demo": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const say = (text) => console.log(`\x1b[36m[dock]\x1b[0m ${text}`);
const portFlag = (name) => {
  if (flags[name] === undefined) return undefined;
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`--${name} must be a port number (1-65535), got ${JSON.stringify(flags[name])}`);
    process.exit(2);
  }
  return n;
};

const host = "127.0.0.1";
const claimed = new Set();
/** The flag's port, or the default (or the next free one) when no flag names it. */
async function portFor(flag, what, preferred) {
  const asked = portFlag(flag);
  const used = await pickPort({ what, flag: `--${flag}`, asked, preferred, claimed });
  if (asked === undefined && used !== preferred) say(`port ${preferred} is taken: ${what} uses ${used}`);
  return used;
}
let port;
let inspectorPort;
let vendorPort;
try {
  port = await portFor("port", "the Worker", 8787);
  inspectorPort = await portFor("inspector-port", "the inspector", 9229);
  if (!flags["no-demo"]) vendorPort = await portFor("vendor-port", "the demo vendor", 8788);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

const base = `http://${host}:${port}`;
const varsFile = flags.vars ? resolve(flags.vars) : resolve(".dev.vars");
const readVars = () => (flags.vars ? readVarsFile(varsFile) : loadDevVars());
let vars = readVars();
const persist = flags["persist-to"] ? ["--persist-to", flags["persist-to"]] : [];
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
// wrangler reads an --env-file only while this is on (its default); --vars relies on it.
if (flags.vars) env.CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV = "true";

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
let vendor;
if (!flags["no-demo"]) {
  vendor = await startDemoVendor({ port: vendorPort, hostname: host, touchPerMinute: 30 });
  say(`demo vendor (a fake REST API with pagination, 429s and 503s) on ${vendor.url}`);
}
const demoVars = vendor ? ["--var", `DEMO_VENDOR_URL:${vendor.url}`, "--var", "DEMO_VENDOR_TOKEN:demo-token-not-a-secret"] : [];

const quiet = flags["exit-after-demo"];
let dev;
let stopping = false;

// wrangler dev runs in a process group of its own (detached) so that stopping it reaches workerd
// and every other process it started, not only wrangler's node process.
function startDev() {
  say(`starting wrangler dev on ${base} (inspector on ${host}:${inspectorPort})`);
  const child = spawn(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      host,
      "--inspector-port",
      String(inspectorPort),
      "--inspector-ip",
      host,
      "--show-interactive-dev-session=false",
      ...(flags.vars ? ["--env-file", varsFile] : []),
      ...persist,
      ...demoVars,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout.on("data", (d) => quiet || process.stdout.write(d));
  child.stderr.on("data", (d) => quiet || process.stderr.write(d));
  child.on("exit", (code, signal) => {
    if (child !== dev || stopping) return;
    say(`wrangler dev exited (${code ?? signal})`);
    stop(code || 1);
  });
  return child;
}

const groupAlive = (pgid) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};
const signalGroup = (pgid, signal) => {
  try {
    process.kill(-pgid, signal);
  } catch {}
};

/** SIGTERM to wrangler's whole group, SIGKILL to what is left after 5 s. */
async function stopDev(child) {
  if (!child?.pid) return;
  signalGroup(child.pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (groupAlive(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signalGroup(child.pid, "SIGKILL");
}

let tick;
let varsWatcher;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  clearInterval(tick);
  varsWatcher?.close();
  await stopDev(dev);
  await vendor?.stop();
  process.exit(code);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
process.on("SIGHUP", () => stop(0));
// Last resort, should this process end some other way: leave no wrangler or workerd behind.
process.on("exit", () => dev?.pid && signalGroup(dev.pid, "SIGKILL"));

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
const workerUp = () => waitFor(async () => (await fetch(`${base}/healthz`)).ok, "wrangler dev");

function printHints() {
  const dock = `npm run dock -- --url ${base}${flags.vars ? ` --token '${vars.ADMIN_TOKEN}'` : ""}`;
  say("look around:");
  console.log(`  ${base}/                  the status page (log in with ADMIN_TOKEN from ${basename(varsFile)})`);
  console.log(`  curl -H 'Authorization: Bearer ${vars.ADMIN_TOKEN}' ${base}/status`);
  console.log(`  ${dock} status`);
  console.log(`  ${dock} raw pull ./lake`);
  console.log(`  ${dock} query "SELECT source, stream, count(*) FROM raw GROUP BY ALL"`);
  console.log(`  debugger: chrome://inspect → ${host}:${inspectorPort}`);
}

// wrangler dev reads .dev.vars once, at start: a change restarts it (same ports, same state).
function watchVars() {
  let last = readFileSync(varsFile, "utf8");
  let timer;
  let restarting = Promise.resolve();
  varsWatcher = watch(dirname(varsFile), (_event, file) => {
    if (file !== basename(varsFile)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      restarting = restarting.then(async () => {
        let now;
        try {
          now = readFileSync(varsFile, "utf8");
        } catch {
          return; // mid-save (renamed away): the next event brings the new file
        }
        if (now === last || stopping) return;
        last = now;
        say(`${basename(varsFile)} changed: restarting wrangler dev to load it (queued messages not yet delivered are lost)`);
        const old = dev;
        dev = undefined;
        await stopDev(old);
        vars = readVars();
        dev = startDev();
        try {
          await workerUp();
          say(`worker is up again with the new ${basename(varsFile)}`);
          printHints();
        } catch (err) {
          console.error(err.message);
        }
      });
    }, 300);
  });
}

dev = startDev();
try {
  await workerUp();
  say("worker is up");
  if (!flags["no-demo"]) {
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
    const fireTick = () => fetch(`${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    await fireTick();
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
    tick = setInterval(() => fireTick().catch(() => {}), 60_000);
  }
  printHints();
  if (flags["exit-after-demo"]) await stop(0);
  else {
    watchVars();
    say("running; Ctrl-C stops it");
  }
} catch (err) {
  console.error(err.message);
  await stop(1);
}
