import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run`) and writes a config beside the original that
 * runs that bundle with no_bundle: wrangler dev then does not rebuild and restart the Worker when
 * someone edits a source file in the shared tree during a measurement.
 */
function frozenConfig(config, state) {
  const outdir = join(state, "bundle");
  const built = spawnSync("node_modules/.bin/wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--config", config], {
    env,
    encoding: "utf8",
  });
  if (built.status !== 0) throw new Error(`bundling ${config} failed: ${built.stderr}`);
  const text = readFileSync(config, "utf8");
  const main = /^main\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (!main) throw new Error(`${config} has no main`);
  const bundle = join(outdir, `${basename(main).replace(/\.[cm]?[jt]sx?$/, "")}.js`);
  const frozen = join(dirname(config), `.bench-frozen-${basename(state)}.toml`);
  writeFileSync(frozen, text.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(bundle)}\nno_bundle = true`));
  return frozen;
}

/**
 * Starts `wrangler dev` for a config on free ports with fresh local state; resolves once it answers.
 * `freeze: true` runs a bundle made at start (see frozenConfig) instead of watching the sources.
 */
export async function startWranglerDev({
  config: given = "wrangler.toml",
  vars = {},
  health = "/healthz",
  args = [],
  freeze = false,
} = {}) {
  const state = mkdtempSync(join(tmpdir(), "dock-bench-"));
  const config = freeze ? frozenConfig(given, state) : given;
  const migrate = spawnSync(
    "node_modules/.bin/wrangler",
    ["d1", "migrations", "apply", "DB", "--local", "--config", config, "--persist-to", state],
    { env, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const port = await freePort();
  const inspector = await freePort();
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "--config",
      config,
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspector),
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
      ...varArgs,
      ...args,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}${health}`);
      if (res.status < 500) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev (${config}) did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    state,
    /** The wrangler process; its workerd children are found through /proc (see workerd-cpu.mjs). */
    pid: child.pid,
    /** The V8 inspector of the Worker (Chrome DevTools Protocol), for CPU profiles in workerd. */
    inspectorPort: inspector,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (freeze) rmSync(config, { force: true });
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}
