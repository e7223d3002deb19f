import { env } from "cloudflare:workers";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { pruneDedupeKeys } from "../src/db/prune";
import * as schema from "../src/db/schema";

const tables = Object.values(schema as Record<string, unknown>).filter(
  (v): v is SQLiteTable => typeof v === "object" && v !== null && "getSQL" in v,
);

describe("D1 schema and migrations", () => {
  it("given the migrations applied to an empty D1, then every drizzle table and column exists", async () => {
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const table of tables) {
      const config = getTableConfig(table);
      const info = await env.DB.prepare(`SELECT name FROM pragma_table_info(?)`).bind(config.name).all<{ name: string }>();
      const columns = info.results.map((r) => r.name).sort();
      expect(columns, `columns of ${config.name}`).toEqual(config.columns.map((c) => c.name).sort());
    }
  });

  it("given keys past and within their retention, when pruned, then only the expired ones go", async () => {
    const now = new Date("2026-11-25T12:00:00Z");
    await env.DB.batch([
      env.DB.prepare("INSERT INTO dedupe_keys (id, expires_at) VALUES ('p-old-1', '2026-11-25T11:59:59.000Z')"),
      env.DB.prepare("INSERT INTO dedupe_keys (id, expires_at) VALUES ('p-old-2', '2026-11-20T00:00:00.000Z')"),
      env.DB.prepare("INSERT INTO dedupe_keys (id, expires_at) VALUES ('p-new', '2026-11-25T12:00:01.000Z')"),
    ]);
    expect(await pruneDedupeKeys(env.DB, now, 1)).toBe(2);
    const left = await env.DB.prepare("SELECT id FROM dedupe_keys WHERE id LIKE 'p-%'").all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual(["p-new"]);
  });
});
