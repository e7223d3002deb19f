import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { connection, DEFAULT_URL, splitStream } from "./lib/client.mjs";
// @ts-expect-error plain JS module
import { sparkline, statusTable } from "./lib/status-table.mjs";

describe("dock CLI: where and who", () => {
  const checkout = mkdtempSync(join(tmpdir(), "dock-cli-vars-"));
  writeFileSync(join(checkout, ".dev.vars"), "ADMIN_TOKEN=from-dev-vars\n");
  const empty = mkdtempSync(join(tmpdir(), "dock-cli-empty-"));
  afterAll(() => {
    rmSync(checkout, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it("given flags, env and .dev.vars, then flags win over DOCK_URL/DOCK_ADMIN_TOKEN, which win over local defaults", () => {
    expect(connection({}, {}, checkout)).toEqual({ url: DEFAULT_URL, token: "from-dev-vars" });
    expect(connection({}, { DOCK_URL: "https://dock.example.com/", DOCK_ADMIN_TOKEN: "env" }, checkout)).toEqual({
      url: "https://dock.example.com",
      token: "env",
    });
    expect(connection({ url: "http://x:1", token: "flag" }, { DOCK_URL: "https://y", DOCK_ADMIN_TOKEN: "env" }, checkout)).toEqual({
      url: "http://x:1",
      token: "flag",
    });
  });

  it("given no token anywhere, then a clear error", () => {
    expect(() => connection({}, {}, empty)).toThrow(/no admin token/);
  });

  it("given source.stream names, then the source is before the first dot", () => {
    expect(splitStream("app_db.public.orders")).toEqual({ source: "app_db", stream: "public.orders" });
    for (const bad of ["stripe", ".x", "x."]) expect(() => splitStream(bad)).toThrow(/expected <source>.<stream>/);
  });
});

describe("dock status table", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  const stream = (source: string, state: string, extra: Record<string, unknown> = {}) => ({
    source,
    stream: "s",
    state,
    pattern: "poll",
    lag_seconds: 120,
    slo_seconds: 1800,
    dlq: 0,
    last_run: { status: "succeeded", records: 5, finished_at: "2026-11-25T11:58:00Z", started_at: "2026-11-25T11:57:00Z" },
    records_per_hour: new Array(168).fill(0),
    ...extra,
  });

  it("given streams in several states, then the worst come first, with lag/SLO and the last run, then the problems", () => {
    const out = statusTable(
      {
        ok: false,
        problems: ["b.s is failing: HTTP 500"],
        streams: [stream("a", "fresh"), stream("b", "failing", { dlq: 2 }), stream("c", "late")],
        dlq: { ingest: 2 },
        sidecars: [],
      },
      { now },
    );
    const lines = out.split("\n");
    expect(lines[0]).toBe("1 problem(s):");
    expect(lines[1]).toBe("  - b.s is failing: HTTP 500");
    const table = lines.slice(3, 7).map((l: string) => l.split(/\s{2,}/)[0]);
    expect(table).toEqual(["STATE", "failing", "late", "fresh"]);
    expect(lines[4]).toMatch(/^failing\s+b\.s\s+poll\s+2m\/30m\s+succeeded 5 rec 2m ago\s+\S*\s+2$/);
    expect(out).toContain("dead letters: ingest 2");
  });

  it("given sources that are not configured, then one in the table says what to set and the others are counted by name", () => {
    const out = statusTable(
      {
        ok: false,
        problems: ["b.s is failing: source b is not configured: set B_URL"],
        streams: [stream("b", "failing")],
        dlq: {},
        sidecars: [],
        not_configured: [
          { source: "b", error: "source b is not configured: set B_URL; its credentials need B_TOKEN", missing: ["B_URL", "B_TOKEN"] },
          { source: "x", error: "source x: its webhooks are refused (404) until X_WEBHOOK_SECRET is set", missing: ["X_WEBHOOK_SECRET"] },
        ],
      },
      { now },
    );
    expect(out).toContain("\nnot configured: b — set B_URL, B_TOKEN");
    expect(out).toContain("1 other source(s) not configured here: x (");
  });

  it("given hourly counts, then 28 characters with the peak as the tallest bar and empty hours as dots", () => {
    const counts = new Array(168).fill(0);
    counts[167] = 10;
    counts[0] = 5;
    const line = sparkline(counts);
    expect([...line]).toHaveLength(28);
    expect(line.at(-1)).toBe("█");
    expect(line[1]).toBe("·");
    expect(sparkline(new Array(168).fill(0)).trim()).toBe("");
  });
});
