import { dispatch } from "../helpers/dispatch";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { aRun, clearOps, receivedHours } from "./seed";

const page = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
  dispatch(new Request(`https://dock.example${path}`, { ...init, headers, redirect: "manual" }));
const cookie = { cookie: "dock_admin=test-admin-token" };

describe("status page", () => {
  beforeEach(clearOps);

  it("given no session, then GET / is the login form and shows no stream; the detail page redirects to it", async () => {
    await receivedHours(new Date(), "opshook", "secretstream", [0], 1);
    const res = await page("/");
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('<form class="login" method="post" action="/login">');
    expect(html).not.toContain("secretstream");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect((await page("/streams/opshook/secretstream")).status).toBe(303);
    expect((await page("/", { cookie: "dock_admin=wrong" })).status).toBe(200);
    expect(await (await page("/", { cookie: "dock_admin=wrong" })).text()).not.toContain("secretstream");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM admin_audit").first("n")).toBe(1); // only the redirected detail page
  });

  it("given the login form, when the token is right, then an HttpOnly, Secure, SameSite=Strict cookie; when wrong, 401 and no cookie", async () => {
    const form = (token: string) => ({ method: "POST", body: new URLSearchParams({ token }) });
    const bad = await page("/login", {}, form("nope"));
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    const good = await page("/login", {}, form("test-admin-token"));
    expect(good.status).toBe(303);
    expect(good.headers.get("location")).toBe("/");
    const set = good.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^dock_admin=test-admin-token;/);
    for (const attr of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) expect(set).toContain(attr);
    const audited = await env.DB.prepare("SELECT action, status, params FROM admin_audit ORDER BY id").all<{
      action: string;
      status: number;
      params: string | null;
    }>();
    expect(audited.results.map((r) => [r.action, r.status])).toEqual([
      ["log in", 401],
      ["log in", 303],
    ]);
    expect(JSON.stringify(audited.results)).not.toContain("test-admin-token");
  });

  it("given hostile stream names and error texts, then the page escapes them", async () => {
    const now = new Date();
    await receivedHours(now, "evil", '<script>alert("s")</script>', [0], 2);
    await aRun(now, {
      source: "evil",
      stream: "x<img src=x onerror=alert(1)>",
      records: 0,
      minutesAgo: 1,
      status: "failed",
      error: '</td><script>alert("e")</script>',
    });
    const html = await (await page("/", cookie)).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;");
    expect(html).toContain('data-state="failing"');
    const detail = await (await page(`/streams/evil/${encodeURIComponent("x<img src=x onerror=alert(1)>")}`, cookie)).text();
    expect(detail).toContain("&lt;/td&gt;&lt;script&gt;alert(&quot;e&quot;)&lt;/script&gt;");
    expect(detail).not.toContain("<script>alert");
  });

  it("given a session cookie, then it opens the pages but never the admin API (no cross-site writes with a cookie)", async () => {
    expect((await page("/admin/sources/stripe/pause", cookie, { method: "POST" })).status).toBe(401);
    expect((await page("/status", cookie)).status).toBe(401);
    expect((await page("/", cookie)).status).toBe(200);
  });

  it("given a stream, then its detail page lists its recent runs with their errors", async () => {
    const now = new Date();
    await aRun(now, { source: "opspoll", stream: "items", records: 12, minutesAgo: 20 });
    await aRun(now, {
      source: "opspoll",
      stream: "items",
      records: 0,
      minutesAgo: 5,
      status: "failed",
      error: "HTTP 429 after 30 retries",
    });
    const html = await (await page("/streams/opspoll/items", { authorization: "Bearer test-admin-token" })).text();
    expect(html).toContain('data-status="failed"');
    expect(html).toContain("HTTP 429 after 30 retries");
    expect(html).toContain('data-status="succeeded"');
    expect((await page("/streams/opspoll/none", cookie)).status).toBe(404);
  });

  it("given the reconciler's ledger, then each reconcilable source shows its last 7 days by status and count", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, updated_at) VALUES ('stripe', ?1, 10, 8, 2, 0, 'complete', ?1)",
      ).bind(yesterday),
      env.DB.prepare(
        "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, detail, updated_at) VALUES ('stripe', ?1, 5, 3, 0, 2, 'incomplete', '2 lost', ?1)",
      ).bind(today),
    ]);
    const html = await (await page("/", cookie)).text();
    expect(html).toContain(`data-day="${yesterday}" data-ledger="complete"`);
    expect(html).toContain(`data-day="${today}" data-ledger="incomplete"`);
    expect(html).toMatch(/data-ledger="incomplete"[^>]*><span class="pill" style="background-color:#cf222e">3\/5</);
    expect(html).toContain(`stripe on ${today}: 2 missing (incomplete)`);
  });

  it("given a stream's records per hour, then its sparkline says what it shows: records/h with its peak and 0 on the axis, the 7 days to now, a title with the numbers and a tooltip per UTC day", async () => {
    const now = new Date();
    await receivedHours(now, "opshook", "events", [0, 5, 30], 40);
    await receivedHours(now, "opshook", "events", [5], 80);
    const html = await (await page("/", cookie)).text();
    const svg = /<svg class="spark"[\s\S]*?<\/svg>/.exec(html.slice(html.indexOf('data-stream="opshook.events"')))?.[0] ?? "";
    expect(svg).toMatch(/<text class="y-max"[^>]*>120\/h<\/text>/);
    expect(svg).toMatch(/<text class="y-min"[^>]*>0<\/text>/);
    expect(svg).toMatch(/<text class="x-from"[^>]*>7d ago<\/text>/);
    expect(svg).toMatch(/<text class="x-to"[^>]*>now<\/text>/);
    const hour = (ms: number) => `${new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString().slice(0, 13).replace("T", " ")}:00 UTC`;
    expect(svg).toContain(
      `<title>opshook.events: 200 records in the last 7 days (records per hour, ${hour(now.getTime() - 167 * 3_600_000)} to now); peak 120/h at ${hour(now.getTime() - 5 * 3_600_000)}; 40 so far this hour</title>`,
    );
    const days = [...svg.matchAll(/<rect class="day-hover"[^>]*><title>([^<]+)<\/title>/g)].map((m) => m[1] as string);
    expect(days.length).toBeGreaterThanOrEqual(7);
    expect(days.at(-1)).toMatch(new RegExp(`^${now.toUTCString().slice(0, 11)}: \\d+ records, peak \\d+/h$`));
    expect(days.reduce((n, d) => n + Number(/: (\d+) records/.exec(d)?.[1]), 0)).toBe(200);
    expect(html).toContain("Records per hour, last 7 days (UTC)");
  });

  it("given sources that are not configured, then the page lists each with the variables to set, open when one of them has streams here, and the stream's row says what to set", async () => {
    let html = await (await page("/", cookie)).text();
    expect(html).toMatch(/<details id="not-configured">/);
    expect(html).toMatch(/<tr data-not-configured="demo"><td>demo<\/td><td><code>DEMO_VENDOR_URL<\/code>/);
    // Its webhook secret is set in the test bindings: only its poll credential is missing.
    expect(html).toMatch(/<tr data-not-configured="stripe"><td>stripe<\/td><td><code>STRIPE_API_KEY<\/code><\/td>/);
    expect(html).not.toContain("STRIPE_WEBHOOK_SECRET");

    await aRun(new Date(), {
      source: "demo",
      stream: "items",
      records: 0,
      minutesAgo: 2,
      status: "failed",
      error: "source demo is not configured: set DEMO_VENDOR_URL (its base URL)",
    });
    html = await (await page("/", cookie)).text();
    expect(html).toMatch(/<details id="not-configured" open="">/);
    const row = html.slice(html.indexOf('data-stream="demo.items"'), html.indexOf("</tr>", html.indexOf('data-stream="demo.items"')));
    expect(row).toContain('<div class="why reason">1 failed run(s) in a row: source demo is not configured: set DEMO_VENDOR_URL');
    expect(row).toMatch(/<div class="missing" data-missing="demo">not configured: set DEMO_VENDOR_URL/);
    const detail = await (await page("/streams/demo/items", cookie)).text();
    expect(detail).toMatch(/<div class="missing" data-missing="demo">not configured: set DEMO_VENDOR_URL/);
  });

  it("given no ADMIN_TOKEN configured, then the page does not exist", async () => {
    const res = await createApp().fetch(new Request("https://dock.example/"), { ...env, ADMIN_TOKEN: undefined });
    expect(res.status).toBe(404);
  });
});
