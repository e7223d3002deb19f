import { dispatch } from "./helpers/dispatch";
import { env } from "cloudflare:workers";
import { gunzipSync } from "node:zlib";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import type { BundleRecord } from "../src/envelope/bundle";
import { aBundle, aRecord } from "./helpers/fixtures";
import { clearBucket, readLines, waitForRecords } from "./helpers/raw-zone";

const SECRET = "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";

function signed(body: string, secret = SECRET, at = new Date()) {
  const id = `msg_${crypto.randomUUID()}`;
  const signature = new Webhook(secret).sign(id, at, body);
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature };
}

const post = (body: string, headers: Record<string, string>) =>
  dispatch(
    new Request("https://dock.example/ingest/cdc", { method: "POST", body, headers: { "content-type": "application/json", ...headers } }),
  );

describe("POST /ingest/cdc (the sidecar's door)", () => {
  beforeEach(clearBucket);

  it("given bundles signed with the Standard Webhooks scheme, then 200 and they land line for line", async () => {
    const records = [
      await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc" }),
      await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc" }),
    ];
    const body = JSON.stringify({
      bundles: [aBundle(records, { source: "app_db", stream: "public.orders", pattern: "cdc", dedupe: "bundle" })],
    });
    const res = await post(body, signed(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, records: 2 });
    await waitForRecords("raw/source=app_db/", 2);
    expect(await readLines("raw/source=app_db/")).toEqual(records.map((r) => r.line));
  });

  it("given a full refresh's parts and then its manifest, then the snapshot lands with _manifest.json written after its parts", async () => {
    const parts = await Promise.all(
      [0, 1].map(async (part) =>
        aBundle([await aRecord({ source: "app_db", stream: "public.plans", key: `p${part}`, pattern: "full_refresh" })], {
          source: "app_db",
          stream: "public.plans",
          pattern: "full_refresh",
          snapshot: { run_id: "refresh-1", part },
        }),
      ),
    );
    const body = JSON.stringify({ bundles: parts });
    expect((await post(body, signed(body))).status).toBe(200);
    const manifest = JSON.stringify({
      bundles: [],
      manifests: [
        {
          kind: "manifest",
          v: 1,
          source: "app_db",
          stream: "public.plans",
          run_id: "refresh-1",
          parts: 2,
          records: 2,
          received_at: new Date().toISOString(),
        },
      ],
    });
    expect((await post(manifest, signed(manifest))).status).toBe(200);

    const key = "raw/source=app_db/stream=public.plans/snapshot=refresh-1/_manifest.json";
    for (let i = 0; i < 150 && !(await env.RAW.head(key)); i++) await new Promise((r) => setTimeout(r, 100));
    const written = (await (await env.RAW.get(key))?.json()) as { row_count: number; rows_sent: number; parts: unknown[] };
    expect(written.row_count).toBe(2);
    expect(written.rows_sent).toBe(2);
    expect(written.parts).toHaveLength(2);
  });

  it.each([
    ["the wrong secret", (b: string) => signed(b, "whsec_d3JvbmctY2RjLXNlY3JldC0zMmJ5dGVzLWxvbmch")],
    ["a stale timestamp", (b: string) => signed(b, SECRET, new Date(Date.now() - 301_000))],
    ["no signature", () => ({})],
  ])("given %s, then 401", async (_n, headers) => {
    const body = JSON.stringify({ bundles: [] });
    expect((await post(body, headers(body))).status).toBe(401);
  });

  it("given a signed body that is not JSON, then 400", async () => {
    const body = "{not json";
    expect((await post(body, signed(body))).status).toBe(400);
  });

  it.each([
    ["an id that is not a dock id", { id: "x", line: "{}" }, "public.orders"],
    ["a stream with a path in it", undefined, "../../etc"],
  ])("given a bundle with %s, then 422 naming the field, and nothing is queued", async (_n, record, stream) => {
    const good = await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc" });
    const body = JSON.stringify({ bundles: [aBundle([record ?? good], { source: "app_db", stream, pattern: "cdc" })] });
    const res = await post(body, signed(body));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toMatch(/^invalid delivery at bundles\.0\./);
  });

  it("given a body over 8 MiB, then 413", async () => {
    const body = JSON.stringify({ bundles: [], pad: "x".repeat(8 * 1024 * 1024) });
    expect((await post(body, signed(body))).status).toBe(413);
  });

  it("given the queue refuses, then 503 so the sidecar keeps its position", async () => {
    const { createApp } = await import("../src/app");
    const refusing = {
      send: async () => Promise.reject(new Error("queue down")),
      sendBatch: async () => Promise.reject(new Error("queue down")),
    };
    const body = JSON.stringify({
      bundles: [
        aBundle([await aRecord({ source: "app_db", stream: "t", pattern: "cdc" })], { source: "app_db", stream: "t", pattern: "cdc" }),
      ],
    });
    const res = await createApp().fetch(new Request("https://dock.example/ingest/cdc", { method: "POST", body, headers: signed(body) }), {
      ...env,
      INGEST: refusing as unknown as Queue,
    });
    expect(res.status).toBe(503);
  });

  it("given bundles of 8 KB or more, spaced and with a key the schema does not know, then each travels gzip'd as the bytes it came as, and every line lands", async () => {
    const { createApp } = await import("../src/app");
    const sent: MessageSendRequest<unknown>[] = [];
    const capturing = {
      send: async () => Promise.reject(new Error("not used")),
      sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
        sent.push(...messages);
        await env.INGEST.sendBatch(messages);
      },
    };
    const aList = (n: number, pad: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          aRecord({
            source: "app_db",
            stream: "public.big",
            pattern: "cdc",
            key: `k${pad}-${i}`,
            json: `{"i":${i},"s":"\\\\\\"]},{[","pad":"${"p".repeat(pad)}"}`,
          }),
        ),
      );
    const spacedBundle = (list: BundleRecord[]) =>
      JSON.stringify(
        { ...aBundle(list, { source: "app_db", stream: "public.big", pattern: "cdc", dedupe: "bundle" }), extra: "ignored" },
        null,
        1,
      );
    // A large bundle that fits a message, and one too large for a message (serialised again and cut).
    const big = await aList(60, 10);
    const huge = await aList(60, 2500);
    const body = `{ "bundles" : [ ${spacedBundle(big)} , ${spacedBundle(huge)} ] }`;
    expect(new TextEncoder().encode(spacedBundle(big)).byteLength).toBeGreaterThan(8 * 1024);
    expect(new TextEncoder().encode(spacedBundle(huge)).byteLength).toBeGreaterThan(120_000);

    const res = await createApp().fetch(new Request("https://dock.example/ingest/cdc", { method: "POST", body, headers: signed(body) }), {
      ...env,
      INGEST: capturing as unknown as Queue,
    });
    expect(res.status).toBe(200);
    expect(sent.every((m) => m.contentType === "bytes")).toBe(true);
    // The first message is the first bundle exactly as the request carried it.
    const first = sent[0]?.body as Uint8Array;
    expect(new TextDecoder().decode(gunzipSync(first))).toBe(spacedBundle(big));
    expect(sent.length).toBeGreaterThan(2);

    const expected = [...big, ...huge].map((r) => r.line);
    await waitForRecords("raw/source=app_db/stream=public.big/", expected.length);
    expect((await readLines("raw/source=app_db/stream=public.big/")).sort()).toEqual(expected.sort());
  });
});
