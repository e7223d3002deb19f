import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { healthReportSchema } from "../../../src/ops/health-report-schema";
import { TEST_SECRET } from "../../test/helpers/webhook-sink";
import { emptyMetrics } from "./metrics";
import { healthReport, reportHealth } from "./report-health";

let server: Server | undefined;
afterEach(() => server?.close());

async function listen(handler: (path: string, headers: Record<string, string>, body: string) => number): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => res.writeHead(handler(req.url ?? "", req.headers as Record<string, string>, body)).end("{}"));
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe("sidecar health reports", () => {
  it("given a streaming sidecar, when it reports, then the Worker's schema accepts the body and its signature verifies", async () => {
    const seen: { path: string; body: unknown }[] = [];
    const url = await listen((path, headers, body) => {
      new Webhook(TEST_SECRET).verify(body, headers);
      seen.push({ path, body: JSON.parse(body) });
      return 200;
    });
    const m = {
      ...emptyMetrics("loading_dock", "app_db"),
      state: "streaming" as const,
      durable_lsn: "0/16B3748",
      slot_lag_bytes: 4096,
      slot_wal_status: "reserved",
      slot_safe_wal_size: 1_000_000,
    };
    expect(await reportHealth(url, TEST_SECRET, healthReport(m, "2026-11-25T09:00:00.000Z"))).toBe(true);

    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe("/ingest/health");
    const parsed = healthReportSchema.safeParse(seen[0]?.body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toMatchObject({
      source: "app_db",
      slot: "loading_dock",
      slot_lag_bytes: 4096,
      wal_status: "reserved",
      heartbeat_at: "2026-11-25T09:00:00.000Z",
    });
  });

  it("given the Worker refuses or is away, then the report fails quietly and returns false", async () => {
    const url = await listen(() => 503);
    expect(await reportHealth(url, TEST_SECRET, healthReport(emptyMetrics("s", "app_db"), null))).toBe(false);
    expect(await reportHealth("http://127.0.0.1:1", TEST_SECRET, healthReport(emptyMetrics("s", "app_db"), null), 500)).toBe(false);
  });
});
