import { dispatch } from "./helpers/dispatch";
import { env } from "cloudflare:workers";
import { gunzipSync } from "node:zlib";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import type { BundleRecord } from "../src/envelope/bundle";
import { dockId } from "../src/envelope/dock-id";
import { envelopeLine } from "../src/envelope/envelope";
import { aBundle, aRecord } from "./helpers/fixtures";
import { clearBucket, listKeys, readLines, waitForRecords } from "./helpers/raw-zone";

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

describe("POST /ingest/cdc writes only the sidecars' own sources, under ids that are their own", () => {
  beforeEach(clearBucket);

  /** The Worker with INGEST recording what it accepted (and passing it on to the real queue). */
  async function postRecorded(body: string, over: Record<string, unknown> = {}) {
    const { createApp } = await import("../src/app");
    const sent: unknown[] = [];
    const recording = {
      send: async (m: unknown, o?: QueueSendOptions) => {
        sent.push(m);
        await env.INGEST.send(m, o);
      },
      sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
        const list = [...messages];
        sent.push(...list);
        await env.INGEST.sendBatch(list);
      },
    };
    const res = await createApp().fetch(new Request("https://dock.example/ingest/cdc", { method: "POST", body, headers: signed(body) }), {
      ...env,
      INGEST: recording as unknown as Queue,
      ...over,
    });
    return { res, error: res.status === 200 ? "" : ((await res.json()) as { error: string }).error, sent };
  }

  const ordersBundle = async (key = "o1") =>
    aBundle([await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc", key, version: "0/1" })], {
      source: "app_db",
      stream: "public.orders",
      pattern: "cdc",
    });

  it("given a signed bundle for source stripe beside a genuine one, then 403 naming the source, nothing of the request is queued, and raw/source=stripe/ stays empty", async () => {
    const stripe = aBundle([await aRecord({ source: "stripe", stream: "charges", pattern: "cdc", key: "ch_1", version: "evt_1" })], {
      source: "stripe",
      stream: "charges",
      pattern: "cdc",
    });
    const body = JSON.stringify({ bundles: [await ordersBundle("refused-with-stripe"), stripe] });
    const { res, error, sent } = await postRecorded(body);
    expect(res.status).toBe(403);
    expect(error).toBe(
      'refused delivery at bundles.1.source: source "stripe" is a vendor source of this Worker; the sidecar\'s door never writes it',
    );
    expect(sent).toEqual([]);

    // A genuine delivery after it lands alone: the refused request left nothing on the queue.
    const genuine = await ordersBundle("after-stripe");
    const next = JSON.stringify({ bundles: [genuine] });
    expect((await post(next, signed(next))).status).toBe(200);
    await waitForRecords("raw/source=app_db/", 1);
    expect(await readLines("raw/source=app_db/")).toEqual(genuine.records.map((r) => r.line));
    expect(await listKeys("raw/source=stripe/")).toEqual([]);
  });

  it("given CDC_SOURCES that names a vendor source by mistake, then that source is still refused", async () => {
    const stripe = aBundle([await aRecord({ source: "stripe", stream: "charges", pattern: "cdc" })], {
      source: "stripe",
      stream: "charges",
      pattern: "cdc",
    });
    const { res, sent } = await postRecorded(JSON.stringify({ bundles: [stripe] }), { CDC_SOURCES: "app_db,stripe" });
    expect(res.status).toBe(403);
    expect(sent).toEqual([]);
  });

  it.each([
    [
      "a source not in CDC_SOURCES",
      { CDC_SOURCES: "app_db, app_mongo" },
      'source "billing_db" is not declared for the sidecar\'s door (CDC_SOURCES is "app_db,app_mongo"); add it to the Worker\'s CDC_SOURCES',
    ],
    [
      "CDC_SOURCES unset",
      { CDC_SOURCES: undefined },
      "source \"billing_db\" is not declared for the sidecar's door (CDC_SOURCES is not set); add it to the Worker's CDC_SOURCES",
    ],
  ])("given %s, then 403 saying what to declare, and nothing is queued", async (_n, over, refusal) => {
    const bundle = aBundle([await aRecord({ source: "billing_db", stream: "public.invoices", pattern: "cdc" })], {
      source: "billing_db",
      stream: "public.invoices",
      pattern: "cdc",
    });
    const { res, error, sent } = await postRecorded(JSON.stringify({ bundles: [bundle] }), over);
    expect(res.status).toBe(403);
    expect(error).toBe(`refused delivery at bundles.0.source: ${refusal}`);
    expect(sent).toEqual([]);
  });

  it("given the sidecar's start-up probe (one empty bundle of its source), then 200 for a declared source and 403 for another, and nothing is queued either way", async () => {
    const probe = (source: string) =>
      JSON.stringify({
        bundles: [aBundle([], { source, stream: "_startup_check", pattern: "cdc", received_at: new Date().toISOString() })],
      });
    const declared = await postRecorded(probe("app_mongo"));
    expect(declared.res.status).toBe(200);
    expect(declared.sent).toEqual([]);
    const other = await postRecorded(probe("billing_db"));
    expect(other.res.status).toBe(403);
    expect(other.error).toMatch(/source "billing_db" is not declared for the sidecar's door/);
    expect(other.sent).toEqual([]);
  });

  it("given a source added to CDC_SOURCES, then its bundles land", async () => {
    const bundle = aBundle([await aRecord({ source: "billing_db", stream: "public.invoices", pattern: "cdc" })], {
      source: "billing_db",
      stream: "public.invoices",
      pattern: "cdc",
    });
    const { res, sent } = await postRecorded(JSON.stringify({ bundles: [bundle] }), { CDC_SOURCES: "app_db,billing_db" });
    expect(res.status).toBe(200);
    expect(sent).toHaveLength(1);
    await waitForRecords("raw/source=billing_db/", 1);
  });

  it("given a manifest for a vendor's snapshot, then 403 and nothing is queued", async () => {
    const manifest = {
      kind: "manifest",
      v: 1,
      source: "stripe",
      stream: "charges",
      run_id: "r1",
      parts: 0,
      records: 0,
      received_at: new Date().toISOString(),
    };
    const { res, error, sent } = await postRecorded(
      JSON.stringify({ bundles: [await ordersBundle("with-manifest")], manifests: [manifest] }),
    );
    expect(res.status).toBe(403);
    expect(error).toMatch(/^refused delivery at manifests\.0\.source: source "stripe"/);
    expect(sent).toEqual([]);
  });

  it("given a record whose id is another record's (forged), then 422 and nothing is queued; the genuine record later still lands", async () => {
    const victim = await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc", key: "victim", version: "0/2A" });
    const attacker = envelopeLine(
      {
        id: victim.id,
        source: "app_db",
        stream: "public.orders",
        pattern: "cdc",
        key: "attacker",
        version: "0/2A",
        op: "delete",
        received_at: "2026-11-25T07:00:00.000Z",
        run_id: "r1",
      },
      { json: '{"id":"victim"}' },
    );
    const forged = JSON.stringify({
      bundles: [
        aBundle([{ id: victim.id, line: attacker }], { source: "app_db", stream: "public.orders", pattern: "cdc", dedupe: "record" }),
      ],
    });
    const { res, error, sent } = await postRecorded(forged);
    expect(res.status).toBe(422);
    expect(error).toBe(
      `invalid delivery at bundles.0.records.0.line: _dock.id ${victim.id} is not dockId(source, stream, key, version) = ${await dockId("app_db", "public.orders", "attacker", "0/2A")}`,
    );
    expect(sent).toEqual([]);

    const genuine = JSON.stringify({
      bundles: [aBundle([victim], { source: "app_db", stream: "public.orders", pattern: "cdc", dedupe: "record" })],
    });
    expect((await post(genuine, signed(genuine))).status).toBe(200);
    await waitForRecords("raw/source=app_db/", 1);
    expect(await readLines("raw/source=app_db/")).toEqual([victim.line]);
  });

  it("given hostile or malformed lines in a signed bundle, then 422 naming the record and what is wrong, and nothing is queued", async () => {
    const good = await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc", key: "g", version: "0/1" });
    const stripeLine = (await aRecord({ source: "stripe", stream: "charges", pattern: "cdc", key: "ch_1", version: "evt_1" })).line;
    const other = await aRecord({ source: "app_db", stream: "public.orders", pattern: "cdc", key: "h", version: "0/1" });
    const cases: [string, BundleRecord, string][] = [
      ["a line whose _dock.id is not the record's", { id: other.id, line: good.line }, "is not the record's id"],
      [
        "a second envelope smuggled after a line break",
        { id: good.id, line: `${good.line}\n${stripeLine}` },
        "the line holds a line break",
      ],
      [
        "a line of another source",
        { id: JSON.parse(stripeLine)._dock.id, line: stripeLine },
        '_dock.source "stripe" is not the bundle\'s source "app_db"',
      ],
      ["a line cut short", { id: good.id, line: `${good.line.slice(0, 60)}` }, "the line does not end with the } of its envelope"],
      ["a line without _dock", { id: good.id, line: '{"data":{}}' }, 'the line does not start with {"_dock":'],
    ];
    for (const [what, record, reason] of cases) {
      const body = JSON.stringify({
        bundles: [
          await ordersBundle(`beside-${what.length}`),
          aBundle([good, record], { source: "app_db", stream: "public.orders", pattern: "cdc" }),
        ],
      });
      const { res, error, sent } = await postRecorded(body);
      expect(res.status, what).toBe(422);
      expect(error, what).toMatch(/^invalid delivery at bundles\.1\.records\.1\.line: /);
      expect(error, what).toContain(reason);
      expect(sent, what).toEqual([]);
    }
  });
});
