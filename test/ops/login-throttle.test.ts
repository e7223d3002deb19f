import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clientOf, MAX_ATTEMPTS, WINDOW_MS } from "../../src/admin/throttle";
import { createApp } from "../../src/app";
import { dispatch } from "../helpers/dispatch";

const TOKEN = "test-admin-token";

/** A request as Cloudflare's edge hands it over: CF-Connecting-IP names the client. */
function from(ip: string, path: string, init: { method?: string; body?: BodyInit; headers?: Record<string, string> } = {}) {
  return new Request(`https://dock.example${path}`, {
    method: init.method ?? "GET",
    body: init.body,
    headers: { "cf-connecting-ip": ip, ...init.headers },
    redirect: "manual",
  });
}
const login = (ip: string, token: string) => dispatch(from(ip, "/login", { method: "POST", body: new URLSearchParams({ token }) }));
const adminCall = (ip: string, token: string) => dispatch(from(ip, "/admin/runs", { headers: { authorization: `Bearer ${token}` } }));

async function wrongLogins(ip: string, n: number) {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await login(ip, `guess-${i}`)).status);
  return statuses;
}

describe("throttling wrong admin tokens", () => {
  beforeEach(async () => {
    await env.DB.prepare("DELETE FROM auth_attempts").run();
  });

  it("given five wrong tokens from one address, when it logs in again, even with the right token, then 429 with Retry-After and no cookie; another address logs in at once", async () => {
    expect(await wrongLogins("198.51.100.7", MAX_ATTEMPTS)).toEqual(Array(MAX_ATTEMPTS).fill(401));

    const refused = await login("198.51.100.7", TOKEN);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("set-cookie")).toBeNull();
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(WINDOW_MS / 1000 - 60);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(await refused.text()).toContain("Too many wrong tokens from your address. Try again in 15 minutes.");
    expect((await login("198.51.100.7", "another-guess")).status).toBe(429);

    const other = await login("198.51.100.8", TOKEN);
    expect(other.status).toBe(303);
    expect(other.headers.get("set-cookie")).toMatch(/^dock_admin=test-admin-token;/);
  });

  it("given a few wrong tokens and then the right one, then the login succeeds and the count starts over", async () => {
    expect(await wrongLogins("198.51.100.20", MAX_ATTEMPTS - 1)).toEqual(Array(MAX_ATTEMPTS - 1).fill(401));
    expect((await login("198.51.100.20", TOKEN)).status).toBe(303);
    expect(await wrongLogins("198.51.100.20", MAX_ATTEMPTS)).toEqual(Array(MAX_ATTEMPTS).fill(401));
    expect((await login("198.51.100.20", TOKEN)).status).toBe(429);
  });

  it("given the right token every time, then logins, page views and admin calls are never throttled", async () => {
    for (let i = 0; i < MAX_ATTEMPTS * 3; i++) {
      expect((await login("198.51.100.30", TOKEN)).status).toBe(303);
      expect((await dispatch(from("198.51.100.30", "/", { headers: { cookie: `dock_admin=${TOKEN}` } }))).status).toBe(200);
      expect((await adminCall("198.51.100.30", TOKEN)).status).toBe(200);
    }
  });

  it("given a throttled address whose window has passed, then it may log in again", async () => {
    await wrongLogins("198.51.100.40", MAX_ATTEMPTS + 1);
    expect((await login("198.51.100.40", TOKEN)).status).toBe(429);
    await env.DB.prepare("UPDATE auth_attempts SET window_start = window_start - ?1 WHERE client = '198.51.100.40'").bind(WINDOW_MS).run();
    expect((await login("198.51.100.40", TOKEN)).status).toBe(303);
  });

  it("given wrong Bearer tokens at the admin API, then the sixth call is 429 with Retry-After and audited, and the status page refuses that address too", async () => {
    for (let i = 0; i < MAX_ATTEMPTS; i++) expect((await adminCall("203.0.113.9", `guess-${i}`)).status).toBe(401);
    const refused = await adminCall("203.0.113.9", TOKEN);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({ error: "Too many wrong tokens from your address. Try again in 15 minutes." });
    expect((await login("203.0.113.9", TOKEN)).status).toBe(429);
    const page = await dispatch(from("203.0.113.9", "/", { headers: { cookie: `dock_admin=${TOKEN}` } }));
    expect(page.status).toBe(429);
    expect(await page.text()).not.toContain("Everything is fine");
    expect((await dispatch(from("203.0.113.9", "/streams/a/b", { headers: { cookie: `dock_admin=${TOKEN}` } }))).status).toBe(303);
    const audited = await env.DB.prepare("SELECT status FROM admin_audit WHERE path = '/admin/runs' ORDER BY id DESC LIMIT 1").first(
      "status",
    );
    expect(audited).toBe(429);
    // Calls without any token are no guess: 401 as ever, for anyone.
    expect((await dispatch(from("203.0.113.10", "/admin/runs"))).status).toBe(401);
  });

  it("given twenty wrong guesses sent at once, then no more than five are checked and the rest are refused with 429", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => adminCall("203.0.113.50", `parallel-${i}`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(MAX_ATTEMPTS);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - MAX_ATTEMPTS);
  });

  it("given two instances of the app (as two isolates would run it), then they share one count: it lives in D1", async () => {
    const [a, b] = [createApp(), createApp()];
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const app = i % 2 ? a : b;
      const res = await app.fetch(from("203.0.113.77", "/login", { method: "POST", body: new URLSearchParams({ token: `g${i}` }) }), env);
      expect(res.status).toBe(401);
    }
    const res = await a.fetch(from("203.0.113.77", "/login", { method: "POST", body: new URLSearchParams({ token: TOKEN }) }), env);
    expect(res.status).toBe(429);
  });

  it("given addresses of one IPv6 /64, then they count as one client; other /64s and IPv4 addresses apart", () => {
    const ip = (a: string) => clientOf(new Request("https://dock.example/", { headers: { "cf-connecting-ip": a } }));
    expect(ip("2001:db8:85a3:12::1")).toBe("2001:db8:85a3:12::/64");
    expect(ip("2001:0db8:85a3:0012:ffff:1:2:3")).toBe("2001:db8:85a3:12::/64");
    expect(ip("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(ip("2001:db8:85a3:13::1")).not.toBe(ip("2001:db8:85a3:12::1"));
    expect(ip("192.0.2.1")).toBe("192.0.2.1");
    expect(clientOf(new Request("https://dock.example/"))).toBeNull();
  });
});
