import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { evaluateAlerts } from "../../src/ops/alerts";
import { handleScheduled } from "../../src/scheduled";
import { aRun, clearOps, iso, polled, receivedHours } from "./seed";

const SECRET = "whsec_YWxlcnQtc2lnbmluZy1zZWNyZXQtZm9yLXRlc3RzIQ==";
const URL_ = "https://alerts.example/hooks/T000/B000";
const alertEnv = { DB: env.DB, ALERT_WEBHOOK_URL: URL_, ALERT_SIGNING_SECRET: SECRET };

interface Posted {
  text: string;
  dock: { kind: string; subject: string; condition: string; previous: string | null };
}

/** A Slack-like receiver: records every post after checking its Standard Webhooks signature; can be told to fail. */
function receiver() {
  const posts: Posted[] = [];
  let failNext = 0;
  const wh = new Webhook(SECRET);
  const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    expect(String(input)).toBe(URL_);
    expect(init?.method).toBe("POST");
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = String(init?.body);
    expect(() => wh.verify(body, headers)).not.toThrow();
    if (failNext > 0) {
      failNext--;
      return new Response("no", { status: 500 });
    }
    posts.push(JSON.parse(body) as Posted);
    return new Response("ok");
  });
  return { posts, fetcher: fetcher as unknown as typeof fetch, failOnce: () => (failNext = 1) };
}

describe("alerts", () => {
  beforeEach(clearOps);
  afterEach(() => vi.restoreAllMocks());

  it("given a stale stream, when ticks repeat, then one alert (signed, Slack-compatible), and one recovery when it is fine again", async () => {
    const now = new Date();
    const r = receiver();
    await receivedHours(
      now,
      "opshook",
      "events",
      Array.from({ length: 48 }, (_, i) => i + 3),
      5,
    );
    const sources = [{ name: "opshook", title: "t" }];
    await evaluateAlerts(alertEnv, sources, now, r.fetcher);
    await evaluateAlerts(alertEnv, sources, new Date(now.getTime() + 60_000), r.fetcher);
    await evaluateAlerts(alertEnv, sources, new Date(now.getTime() + 120_000), r.fetcher);
    expect(r.posts).toHaveLength(1);
    expect(r.posts[0]?.text).toMatch(/^:red_circle: Loading Dock: stream opshook\.events is stale: last record 3h ago/);
    expect(r.posts[0]?.dock).toMatchObject({ kind: "alert", subject: "stream opshook.events", condition: "stale", previous: null });

    await receivedHours(now, "opshook", "events", [0], 5);
    await evaluateAlerts(alertEnv, sources, now, r.fetcher);
    await evaluateAlerts(alertEnv, sources, now, r.fetcher);
    expect(r.posts).toHaveLength(2);
    expect(r.posts[1]?.dock).toMatchObject({ kind: "recovery", subject: "stream opshook.events", condition: "stale" });
    expect(r.posts[1]?.text).toContain(":white_check_mark:");
  });

  it("given a failing stream that turns zero-record, then a second alert names the change; a failed post is retried on the next tick", async () => {
    const now = new Date();
    const r = receiver();
    for (const [records, ago] of [
      [9, 80],
      [8, 65],
      [7, 50],
    ] as const)
      await aRun(now, { source: "opspoll", stream: "items", records, minutesAgo: ago });
    await aRun(now, {
      source: "opspoll",
      stream: "items",
      records: 0,
      minutesAgo: 20,
      status: "failed",
      error: "HTTP 503 after 30 retries",
    });
    r.failOnce();
    const first = await evaluateAlerts(alertEnv, [polled], now, r.fetcher);
    expect(first.failed).toHaveLength(1);
    expect(r.posts).toHaveLength(0);
    await evaluateAlerts(alertEnv, [polled], now, r.fetcher);
    expect(r.posts.map((p) => p.dock.condition)).toEqual(["failing"]);

    for (const ago of [15, 10, 5]) await aRun(now, { source: "opspoll", stream: "items", records: 0, minutesAgo: ago });
    await evaluateAlerts(alertEnv, [polled], now, r.fetcher);
    await evaluateAlerts(alertEnv, [polled], now, r.fetcher);
    expect(r.posts.map((p) => [p.dock.kind, p.dock.condition, p.dock.previous])).toEqual([
      ["alert", "failing", null],
      ["alert", "zero-record", "failing"],
    ]);
  });

  it("given parked dead letters and a lagging slot, then each alerts once", async () => {
    const now = new Date();
    const r = receiver();
    await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, parked_at) VALUES ('j1', 'jobs', '{}', 10, ?1)")
      .bind(now.toISOString())
      .run();
    await env.DB.prepare(
      "INSERT INTO sidecar_health (source, slot, state, slot_lag_bytes, wal_status, heartbeat_at, reported_at) VALUES ('app_db', 'loading_dock', 'streaming', 5000000000, 'extended', ?1, ?1)",
    )
      .bind(iso(now, 0))
      .run();
    await evaluateAlerts(alertEnv, [], now, r.fetcher);
    await evaluateAlerts(alertEnv, [], now, r.fetcher);
    expect(r.posts.map((p) => `${p.dock.subject}:${p.dock.condition}`).sort()).toEqual([
      "dlq jobs:dlq-non-empty",
      "sidecar app_db/loading_dock:slot-lag",
    ]);
  });

  it("given reconciliation gaps in the ledger, then gaps-found alerts once, and recovers when the day is complete", async () => {
    const now = new Date();
    const r = receiver();
    const day = now.toISOString().slice(0, 10);
    await env.DB.prepare(
      "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, updated_at) VALUES ('stripe', ?1, 9, 6, 1, 2, 'incomplete', ?1)",
    )
      .bind(day)
      .run();
    await evaluateAlerts(alertEnv, [], now, r.fetcher);
    await evaluateAlerts(alertEnv, [], now, r.fetcher);
    expect(r.posts.map((p) => [p.dock.kind, p.dock.subject, p.dock.condition])).toEqual([["alert", "reconciliation stripe", "gaps-found"]]);
    await env.DB.prepare("UPDATE reconcile_ledger SET missing = 0, recovered = 3, status = 'complete' WHERE source = 'stripe'").run();
    await evaluateAlerts(alertEnv, [], now, r.fetcher);
    expect(r.posts.map((p) => p.dock.kind)).toEqual(["alert", "recovery"]);
  });

  it("given no ALERT_WEBHOOK_URL, then nothing is posted and nothing is remembered", async () => {
    const now = new Date();
    const r = receiver();
    await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, parked_at) VALUES ('j2', 'jobs', '{}', 10, ?1)")
      .bind(now.toISOString())
      .run();
    await evaluateAlerts({ DB: env.DB }, [], now, r.fetcher);
    expect(r.fetcher).not.toHaveBeenCalled();
    expect(await env.DB.prepare("SELECT count(*) AS n FROM alert_state").first("n")).toBe(0);
  });

  it("given the scheduler tick, then alerts are evaluated there (fetch is the alert webhook only)", async () => {
    const now = new Date();
    await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, parked_at) VALUES ('i1', 'ingest', '{}', 10, ?1)")
      .bind(now.toISOString())
      .run();
    const seen: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return new Response("ok");
    });
    await handleScheduled({ cron: "*/5 * * * *", scheduledTime: now.getTime() }, { ...env, ...alertEnv } as never);
    expect(seen).toEqual([URL_]);
    expect(await env.DB.prepare("SELECT condition FROM alert_state WHERE subject = 'dlq ingest'").first("condition")).toBe("dlq-non-empty");
  });
});
