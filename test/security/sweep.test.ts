import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { setLogSink } from "../../src/lib/log";
import { sources } from "../../src/sources/registry";

/**
 * The security sweep: every route the app serves — read from the router itself, so a route added
 * later is swept too — is called with no credentials, wrong ones and expired ones, and with
 * hostile paths, headers and bodies. Nothing may be accepted, and nothing may answer 5xx.
 */
const app = createApp();
const logs: string[] = [];

/** Routes that answer without credentials on purpose, and why. */
const PUBLIC: Record<string, string> = {
  "GET /healthz": "liveness probe, says only {ok:true}",
  "GET /": "the status page: without a session it shows the login form and nothing else",
  "GET /login": "the login form",
  "POST /login": "checks a token and sets a session cookie; a wrong token is refused by the ops tests",
  "POST /logout": "clears the session cookie",
};

/** A refusal: 4xx, or the status page's redirect to its login form at / (which shows no data). */
function refused(res: Response): boolean {
  if (res.status >= 400 && res.status < 500) return true;
  if (res.status !== 302 && res.status !== 303) return false;
  const to = new URL(res.headers.get("location") ?? "x:", "https://dock.example").pathname;
  return to === "/" || to === "/login";
}

function concretePaths(path: string): string[] {
  if (!path.includes(":") && !path.includes("*")) return [path];
  const names = [...sources.map((s) => s.name), "nope"];
  const out: string[] = [];
  for (const name of names) {
    out.push(
      path
        .replace(":source", name)
        .replace(":stream", "events")
        .replace(":name", "drop.csv")
        .replace(":id", "1")
        .replace(/\/\*$/, "/raw/source=x/y.jsonl.gz")
        .replace(/:[a-z_]+/g, "x"),
    );
    if (!path.includes(":source")) break;
  }
  return out;
}

const routes = () =>
  app.routes
    .filter((r) => r.method !== "ALL")
    .flatMap((r) => concretePaths(r.path).map((p) => ({ method: r.method, path: p, key: `${r.method} ${r.path}` })))
    .filter((r) => !PUBLIC[r.key]);

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: BodyInit) {
  const init: RequestInit = { method, headers };
  if (method !== "GET" && method !== "HEAD") init.body = body ?? '{"id":"evt_sweep","type":"x","data":{"object":{"id":"x"}}}';
  return app.fetch(new Request(`https://dock.example${path}`, init), env);
}

describe("security sweep of every route", () => {
  beforeAll(() => setLogSink((l) => logs.push(l)));
  afterAll(() => setLogSink(undefined));

  it("the router has the routes we expect to sweep", () => {
    const keys = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
    for (const expected of ["POST /webhooks/:source", "POST /ingest/cdc", "GET /status", "GET /admin/raw"])
      expect(keys).toContain(expected);
  });

  it("given no credentials, every non-public route refuses (401/403/404/405), never 2xx or 5xx", async () => {
    for (const r of routes()) {
      const res = await call(r.method, r.path);
      expect(refused(res), `${r.method} ${r.path} → ${res.status}`).toBe(true);
    }
  });

  it("given wrong bearer tokens and forged signatures of every scheme, nothing is accepted", async () => {
    const forged = {
      authorization: "Bearer not-the-token",
      "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"a".repeat(64)}`,
      "webhook-id": "msg_x",
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "x-hub-signature-256": `sha256=${"b".repeat(64)}`,
      "x-hub-signature": `sha1=${"c".repeat(40)}`,
      "x-signature": "d".repeat(40),
      "x-shopify-hmac-sha256": "AAAA",
      "x-hubspot-signature-v3": "AAAA",
      "x-hubspot-request-timestamp": String(Date.now()),
      "x-zendesk-webhook-signature": "AAAA",
      "x-zendesk-webhook-signature-timestamp": new Date().toISOString(),
      "klaviyo-signature": "e".repeat(64),
      "klaviyo-timestamp": String(Math.floor(Date.now() / 1000)),
      cookie: "dock_session=forged",
    };
    for (const r of routes()) {
      const res = await call(r.method, r.path, forged);
      expect(refused(res), `${r.method} ${r.path} → ${res.status}`).toBe(true);
    }
  });

  it("given a correctly computed signature that expired, the signed-timestamp doors refuse it", async () => {
    const secret = "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";
    const body = JSON.stringify({ bundles: [] });
    const old = new Date(Date.now() - 3_600_000);
    const headers = {
      "webhook-id": "msg_old",
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("msg_old", old, body),
    };
    for (const path of ["/ingest/cdc", "/ingest/health"]) {
      const res = await app.fetch(new Request(`https://dock.example${path}`, { method: "POST", body, headers }), env);
      expect([401, 404], path).toContain(res.status);
    }
  });

  it("given hostile paths (traversal, encoded slashes, control characters), nothing escapes the zone", async () => {
    const auth = { authorization: "Bearer test-admin-token" };
    for (const path of [
      "/admin/raw/..%2f..%2fwrangler.toml",
      "/admin/raw/raw%2f..%2f..%2fx",
      "/admin/raw/%00",
      "/admin/raw?prefix=..%2f",
      "/webhooks/..%2fadmin",
      "/webhooks/stripe%00",
      "/files/stripe/..%2f..%2fetc%2fpasswd",
      "/files/stripe/%2e%2e",
      "/files/..%2f/x.csv",
    ]) {
      const method = path.startsWith("/files") ? "PUT" : path.startsWith("/webhooks") ? "POST" : "GET";
      const res = await call(method, path, auth, "a,b\n1,2\n");
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

  it("given oversized headers and bodies, the answer is a clean 4xx", async () => {
    const huge = "x".repeat(64 * 1024);
    const body = new Uint8Array(9 * 1024 * 1024).fill(0x78);
    for (const r of routes().filter((x) => x.method === "POST" || x.method === "PUT")) {
      const res = await call(
        r.method,
        r.path,
        { "stripe-signature": huge, authorization: `Bearer ${huge}`, "webhook-signature": huge },
        body,
      );
      expect(refused(res), `${r.method} ${r.path} → ${res.status}`).toBe(true);
    }
  }, 120_000);

  it("leaves no secret in what it logged", () => {
    const secrets = Object.entries(env as unknown as Record<string, unknown>)
      .filter(([k, v]) => /SECRET|TOKEN/.test(k) && typeof v === "string" && v.length >= 8)
      .map(([, v]) => v as string);
    expect(secrets.length).toBeGreaterThan(2);
    const all = logs.join("\n");
    for (const s of secrets) expect(all.includes(s), "a secret appeared in the logs").toBe(false);
  });
});
