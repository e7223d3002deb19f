import { dispatch } from "./helpers/dispatch";

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { processIngestBatch } from "../src/queue-consumers/ingest-consumer";
import { aBundle, anIngestBatch, aRecord } from "./helpers/fixtures";
import { clearBucket } from "./helpers/raw-zone";

const auth = { authorization: "Bearer test-admin-token" };
const get = (path: string, headers: Record<string, string> = auth) => dispatch(new Request(`https://dock.example${path}`, { headers }));

describe("admin API", () => {
  beforeEach(clearBucket);

  it("given no token, a wrong token or a malformed header, then 401", async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: "Basic dGVzdA==" },
      { authorization: "Bearer test-admin-token extra" },
    ];
    for (const headers of variants) {
      for (const path of ["/status", "/admin/raw", "/admin/raw/raw/x"]) {
        expect((await get(path, headers)).status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      }
    }
  });

  it("given no ADMIN_TOKEN configured, then the admin API does not exist", async () => {
    const app = createApp();
    const res = await app.fetch(new Request("https://dock.example/status", { headers: auth }), { ...env, ADMIN_TOKEN: undefined });
    expect(res.status).toBe(404);
  });

  it("lists raw keys, returns an object's bytes, and reports per-source status", async () => {
    const record = await aRecord({ source: "adm" });
    await processIngestBatch(env, anIngestBatch([aBundle([record], { source: "adm" })]));

    const list = await get("/admin/raw?prefix=raw/source=adm/");
    expect(list.status).toBe(200);
    const { objects } = (await list.json()) as { objects: { key: string; size: number }[] };
    expect(objects).toHaveLength(1);

    const object = await get(`/admin/raw/${objects[0]?.key}`);
    expect(object.status).toBe(200);
    const bytes = new Uint8Array(await object.arrayBuffer());
    expect(bytes.byteLength).toBe(objects[0]?.size);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);

    const status = (await (await get("/status")).json()) as { sources: { source: string; records: number; last_received_at: string }[] };
    expect(status.sources.find((s) => s.source === "adm")).toMatchObject({ records: 1, last_received_at: "2026-11-25T07:00:00.000Z" });
  });

  it("refuses keys and prefixes outside the zone or with traversal", async () => {
    for (const path of ["/admin/raw/..%2F..%2Fetc", "/admin/raw/raw/../x", "/admin/raw?prefix=../", "/admin/raw?prefix=secrets/"]) {
      expect((await get(path)).status, path).toBe(400);
    }
    expect((await get("/admin/raw/raw/source=none/x.jsonl.gz")).status).toBe(404);
  });
});
