import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev } from "../bench/lib/wrangler-dev.mjs";
// @ts-expect-error plain JS module
import { loadDevVars } from "../scripts/dev-vars.mjs";

/**
 * The operator's view end to end: `wrangler dev` with fresh local state, D1 seeded with a state
 * per row (through `wrangler d1 execute`), the `dock` CLI against it, and the status page in
 * Debian's Chromium. A missing Chromium fails the test — it is never skipped.
 */
const CHROMIUM = "/usr/bin/chromium";
const repo = resolve(import.meta.dirname, "..");
const artifacts = join(repo, "test-artifacts");
const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
// The colours of src/status-page/colours.ts, as the browser computes them.
const RGB: Record<string, string> = {
  fresh: "rgb(26, 127, 55)",
  late: "rgb(191, 135, 0)",
  stale: "rgb(207, 34, 46)",
  failing: "rgb(130, 7, 30)",
  paused: "rgb(110, 119, 129)",
  "zero-record": "rgb(130, 80, 223)",
};

const STUCK = "D1_ERROR: database is locked";
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

function seedSql(): string {
  const rows: string[] = [];
  // shop.orders: a busy webhook stream (every hour for two days) that went silent 3 hours ago → stale
  for (let h = 3; h < 51; h++) {
    rows.push(
      `INSERT INTO raw_objects VALUES ('raw/source=shop/stream=orders/k${h}', 'shop', 'orders', 'webhook', 6, 600, ${q(ago(h * 60))})`,
    );
  }
  rows.push(`INSERT INTO stream_stats VALUES ('shop', 'orders', 288, 48, 28800, ${q(ago(50 * 60))}, ${q(ago(180))}, ${q(ago(180))})`);
  const run = (id: string, source: string, stream: string, status: string, records: number, minutes: number, error: string | null = null) =>
    `INSERT INTO runs (id, source, stream, pattern, status, started_at, finished_at, records, pages, error) VALUES (${q(id)}, ${q(source)}, ${q(stream)}, 'poll', ${q(status)}, ${q(ago(minutes + 1))}, ${q(ago(minutes))}, ${records}, 1, ${error === null ? "NULL" : q(error)})`;
  // erp.items: the last run failed → failing
  rows.push(
    run("r-erp-1", "erp", "items", "succeeded", 40, 30),
    run("r-erp-2", "erp", "items", "failed", 0, 5, "HTTP 401 at page 1 (GET https://erp.example/items)"),
  );
  // crm.contacts: three empty runs after runs that brought records → zero-record
  for (const [i, n] of [25, 30, 22].entries()) rows.push(run(`r-crm-a${i}`, "crm", "contacts", "succeeded", n, 60 - i * 10));
  for (const i of [0, 1, 2]) rows.push(run(`r-crm-b${i}`, "crm", "contacts", "succeeded", 0, 20 - i * 5));
  // billing.invoices: last success 40 minutes ago, SLO 30 → late
  rows.push(run("r-bill-1", "billing", "invoices", "succeeded", 7, 40));
  // wms.shipments: last success 70 minutes ago, and the run since then keeps failing its job → stale, and why
  rows.push(
    run("r-wms-1", "wms", "shipments", "succeeded", 12, 70),
    `INSERT INTO runs (id, source, stream, pattern, status, started_at, records, pages, error) VALUES ('r-wms-2', 'wms', 'shipments', 'poll', 'running', ${q(ago(50))}, 0, 0, ${q(`job attempt 4 failed at ${ago(3)}: ${STUCK}`)})`,
  );
  // a hostile stream name and error text, rendered as text
  rows.push(run("r-evil-1", "evil", "<b>bold</b>", "failed", 0, 2, "<script>document.title='owned'</script>"));
  return rows.join(";\n");
}

describe("status page in Chromium, and the dock CLI, against wrangler dev", () => {
  let dev: { url: string; state: string; stop: () => Promise<void>; log: () => string } | undefined;
  let browser: Browser | undefined;
  const lake = mkdtempSync(join(tmpdir(), "dock-cli-lake-"));
  const vars = loadDevVars(repo) as Record<string, string>;
  // Secrets the local .dev.vars may not hold yet; the CLI reads the same values from its environment.
  const extra: Record<string, string> = {};
  if (!vars.SVIX_WEBHOOK_SECRET) extra.SVIX_WEBHOOK_SECRET = "whsec_YnJvd3Nlci10ZXN0LXN2aXgtc2VjcmV0LTMyYnl0ZXMh";
  if (!vars.GITHUB_WEBHOOK_SECRET) extra.GITHUB_WEBHOOK_SECRET = "browser-test-github-secret";
  const token = vars.ADMIN_TOKEN as string;

  const dock = (...args: string[]) =>
    spawnSync("node", [join(repo, "cli/dock.mjs"), "--url", dev?.url ?? "", ...args], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, ...extra, DOCK_ADMIN_TOKEN: token, NO_COLOR: "1" },
    });

  beforeAll(async () => {
    const started = await startWranglerDev({ vars: extra });
    dev = started;
    const seeded = spawnSync(
      "node_modules/.bin/wrangler",
      ["d1", "execute", "DB", "--local", "--persist-to", started.state, "--command", seedSql()],
      { cwd: repo, env: wranglerEnv, encoding: "utf8" },
    );
    if (seeded.status !== 0) throw new Error(`seeding D1 failed: ${seeded.stderr}`);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    rmSync(lake, { recursive: true, force: true });
    if (dev) rmSync(dev.state, { recursive: true, force: true });
  });

  it("given test webhooks sent by the CLI, then each source lands, dock status shows every state, pause and raw pull work", async () => {
    for (const source of ["stripe", "svix", "github", "acme"]) {
      const sent = dock("send-test-webhook", source);
      expect(sent.status, `${source}: ${sent.stdout}${sent.stderr}`).toBe(0);
      expect(sent.stdout).toMatch(new RegExp(`^${source} \\S+ → HTTP 200 \\{"ok":true,"records":1\\}`));
    }
    const landed = ["stripe.charges", "svix.invoices", "github.issues", "acme.events"];
    const deadline = Date.now() + 60_000;
    let status = dock("status");
    while (!landed.every((s) => status.stdout.includes(s)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = dock("status");
    }
    expect(status.status, status.stdout + status.stderr).toBe(1); // not everything is fine
    const line = (stream: string) =>
      status.stdout.split("\n").find((l) => new RegExp(`^\\S+\\s+${stream.replace(".", "\\.")}\\s`).test(l)) ?? "";
    expect(line("erp.items")).toMatch(/^failing\s/);
    expect(line("shop.orders")).toMatch(/^stale\s/);
    expect(line("crm.contacts")).toMatch(/^zero-record\s/);
    expect(line("billing.invoices")).toMatch(/^late\s/);
    for (const s of landed) expect(line(s)).toMatch(/^fresh\s/);
    expect(status.stdout).toContain("problem(s):");

    expect(dock("pause", "stripe", "--reason", "browser test").status).toBe(0);
    const json = JSON.parse(dock("status", "--json").stdout) as { streams: { source: string; stream: string; state: string }[] };
    expect(json.streams.find((s) => s.source === "stripe")?.state).toBe("paused");

    // A declared SLO of 2 hours makes billing.invoices (last success 40 minutes ago) fresh.
    expect(dock("slo", "billing.invoices", "--minutes", "120").status).toBe(0);
    const afterSlo = JSON.parse(dock("status", "--json").stdout) as { streams: { source: string; state: string; slo_seconds: number }[] };
    expect(afterSlo.streams.find((s) => s.source === "billing")).toMatchObject({ state: "fresh", slo_seconds: 7200 });
    expect(dock("slo", "billing.invoices", "--minutes", "30").status).toBe(0); // back to the default: late again

    const runs = dock("runs", "--source", "erp", "--status", "failed");
    expect(runs.stdout).toContain("HTTP 401 at page 1");
    const pulled = dock("raw", "pull", lake);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(readdirSync(join(lake, "raw"))).toEqual(
      expect.arrayContaining(["source=acme", "source=stripe", "source=svix", "source=github"]),
    );
    expect(dock("run", "nosuch.stream").stderr).toContain("HTTP 404");
  });

  it("given the seeded state, when an operator logs in with Chromium, then each row has its state and colour, and a stream's page shows its errors", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the test never skips)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${dev?.url}/`);
    await page.fill("#token", "not-the-token");
    await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
    expect(await page.locator("form.login .err").textContent()).toContain("not the admin token");
    await page.fill("#token", token);
    await Promise.all([page.waitForURL(`${dev?.url}/`), page.click("button[type=submit]")]);
    await page.waitForSelector("table#streams");

    const rows = await page.$$eval("tr.stream", (trs) =>
      trs.map((tr) => ({
        stream: tr.getAttribute("data-stream"),
        state: tr.getAttribute("data-state"),
        pill: getComputedStyle(tr.querySelector(".pill") as Element).backgroundColor,
        edge: getComputedStyle(tr.querySelector("td") as Element).borderLeftColor,
        spark: tr.querySelectorAll("svg.spark polyline").length,
      })),
    );
    const byStream = new Map(rows.map((r) => [r.stream, r]));
    const expected: Record<string, string> = {
      "erp.items": "failing",
      "shop.orders": "stale",
      "crm.contacts": "zero-record",
      "billing.invoices": "late",
      "stripe.charges": "paused",
      "acme.events": "fresh",
      "evil.<b>bold</b>": "failing",
      "wms.shipments": "stale",
    };
    for (const [stream, state] of Object.entries(expected)) {
      const row = byStream.get(stream);
      expect(row, stream).toMatchObject({ state, pill: RGB[state], edge: RGB[state], spark: 1 });
    }
    expect(await page.locator(".banner").getAttribute("data-ok")).toBe("false");
    // Why a stream is stuck: the error its run's job keeps failing with, on its row.
    expect(await page.locator('tr[data-stream="wms.shipments"] .why').textContent()).toMatch(
      new RegExp(
        `^the running run's job keeps failing and is being retried: job attempt 4 failed at \\S+: ${STUCK}; last successful run 70m ago`,
      ),
    );
    // A sparkline that reads: its scale in records/h, its span, and the numbers in its title.
    const spark = page.locator('tr[data-stream="shop.orders"] svg.spark');
    expect(await spark.locator("text.y-max").textContent()).toBe("6/h");
    expect(await spark.locator("text.x-from").textContent()).toBe("7d ago");
    expect(await spark.locator("text.x-to").textContent()).toBe("now");
    expect(await spark.locator(":scope > title").textContent()).toMatch(/^shop\.orders: 288 records in the last 7 days .*peak 6\/h at /);
    // What each source that is not configured here needs, as `dock status --json` says it.
    const notConfigured = (JSON.parse(dock("status", "--json").stdout) as { not_configured: { source: string; missing: string[] }[] })
      .not_configured;
    expect(notConfigured.length).toBeGreaterThan(0);
    await page.locator("#not-configured").evaluate((el) => {
      (el as HTMLDetailsElement).open = true;
    });
    mkdirSync(artifacts, { recursive: true });
    await spark.screenshot({ path: join(artifacts, "sparkline.png") });
    for (const n of notConfigured)
      expect(await page.locator(`tr[data-not-configured="${n.source}"] td:nth-child(2)`).textContent()).toBe(n.missing.join(", "));
    expect(await page.title()).toBe("Loading Dock — status");
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "status-page.png"), fullPage: true });

    await Promise.all([page.waitForURL(/\/streams\/erp\/items$/), page.click('a[href="/streams/erp/items"]')]);
    expect(await page.locator('#runs tr[data-status="failed"] .err').textContent()).toBe(
      "HTTP 401 at page 1 (GET https://erp.example/items)",
    );
    await page.screenshot({ path: join(artifacts, "status-page-stream.png"), fullPage: true });

    await page.goto(`${dev?.url}/streams/evil/${encodeURIComponent("<b>bold</b>")}`);
    expect(await page.locator("#runs .err").textContent()).toBe("<script>document.title='owned'</script>");
    expect(await page.title()).not.toBe("owned");
    expect(await page.locator("#stream-title b").count()).toBe(0);
  });
});
