import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { toHex } from "../../src/lib/bytes";
import { hmac } from "../../src/lib/crypto";
import { loggedEvents, setLogSink } from "../../src/lib/log";
import { evaluateAlerts } from "../../src/ops/alerts";
import { processIngestBatch } from "../../src/queue-consumers/ingest-consumer";
import { aBundle, anIngestBatch, aRecord } from "../helpers/fixtures";

const COMMON: Record<string, string> = {
  source: "string",
  stream: "string",
  pattern: "string",
  run_id: "string",
  records: "number",
  ms: "number",
  error: "string",
};

describe("log lines of a real pipeline", () => {
  afterEach(() => setLogSink(undefined));

  it("given a webhook, the raw writer, admin calls, a failed alert and a forged sidecar report, then every line is one JSON object carrying every common field (typed, or null where it does not apply; never null where its event must have it) and no secret", async () => {
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    const app = createApp();
    const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, kind: "order.shipped" });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = toHex(await hmac("SHA-256", "acme-test-secret", `${ts}.${body}`));
    const hook = await app.fetch(
      new Request("https://dock.example/webhooks/acme", {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-acme-signature": `sha256=${sig}`,
          "x-acme-timestamp": ts,
          "x-acme-delivery": crypto.randomUUID(),
        },
      }),
      env,
    );
    expect(hook.status).toBe(200);
    // Received now, so the only alert below is the parked dead letter, whatever the calendar says.
    const receivedAt = new Date().toISOString();
    await processIngestBatch(
      env,
      anIngestBatch([aBundle([await aRecord({ source: "loglines", receivedAt })], { source: "loglines", received_at: receivedAt })]),
    );
    await app.fetch(
      new Request("https://dock.example/admin/sources/acme/pause", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token" },
      }),
      env,
    );
    await app.fetch(
      new Request("https://dock.example/admin/sources/acme/resume", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token" },
      }),
      env,
    );
    await env.DB.prepare("INSERT OR IGNORE INTO dead_letters (id, queue, body, attempts, parked_at) VALUES ('log-1', 'jobs', '{}', 1, ?1)")
      .bind(new Date().toISOString())
      .run();
    await evaluateAlerts(
      { DB: env.DB, ALERT_WEBHOOK_URL: "https://alerts.example/x" },
      [],
      new Date(),
      async () => new Response("down", { status: 502 }),
    );
    await app.fetch(new Request("https://dock.example/ingest/health", { method: "POST", body: "{}" }), env);

    expect(lines.length).toBeGreaterThanOrEqual(4);
    const events = new Set<string>();
    for (const line of lines) {
      expect(line).not.toMatch(/\n/);
      expect(line).not.toContain("test-admin-token");
      expect(line).not.toContain("acme-test-secret");
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(["info", "warn", "error"]).toContain(o.level);
      expect(typeof o.time).toBe("string");
      expect(typeof o.event).toBe("string");
      // Every line carries every common field: a value of its type, or null where the event has none;
      // the fields its event must have (src/lib/log-events.ts) are never null.
      const required = loggedEvents[o.event as string];
      expect(required, `${o.event} is in the catalogue`).toBeDefined();
      for (const [k, type] of Object.entries(COMMON)) {
        expect(o, `${o.event} carries ${k}`).toHaveProperty(k);
        if (o[k] !== null || required?.includes(k as never)) expect(typeof o[k], `${o.event}.${k}`).toBe(type);
      }
      events.add(o.event as string);
    }
    expect([...events]).toEqual(expect.arrayContaining(["webhook.accepted", "raw.written", "alert.failed", "sidecar.rejected"]));
    const alerts = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.event === "alert.failed");
    expect(alerts.map((o) => o.subject)).toEqual(["dlq jobs"]);
  });
});
