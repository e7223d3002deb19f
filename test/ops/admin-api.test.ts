import { dispatch } from "../helpers/dispatch";
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import { adminRoutes } from "../../src/admin/routes";
import worker from "../../src/index";
import { sha256Hex } from "../../src/lib/crypto";
import { withoutPausedSources } from "../../src/ops/controls";
import { parkDeadLetters } from "../../src/ops/dlq";
import { defineSource } from "../../src/sources/define-source";
import { aRun, clearOps, polled } from "./seed";

const TOKEN = "test-admin-token";
const hook = defineSource({
  name: "opshook",
  title: "ops test webhook source",
  webhook: { scheme: { kind: "custom", verify: async () => true } as never, records: () => [] },
  reconcile: { historyDays: 30, settleSeconds: 300, overlapSeconds: 300, list: async () => ({ events: [], next: null }) },
});
const unlisted = defineSource({
  name: "opsunlisted",
  title: "a webhook source its vendor cannot list",
  webhook: { scheme: { kind: "custom", verify: async () => true } as never, records: () => [] },
  reconcile: { unsupported: "the vendor has no event listing" },
});
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
const sources = [polled, hook, unlisted];
const find = (name: string) => sources.find((s) => s.name === name);

/** The real queues, with every message they accept written down. */
function recordingQueue(queue: Queue<unknown>) {
  const sent: unknown[] = [];
  return {
    sent,
    queue: {
      send: async (body: unknown, opts?: QueueSendOptions) => {
        await queue.send(body, opts);
        sent.push(body);
      },
      sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>, opts?: QueueSendBatchOptions) => {
        const list = [...messages];
        await queue.sendBatch(list, opts);
        sent.push(...list.map((m) => m.body));
      },
    } as unknown as Queue<unknown>,
  };
}

let jobs = recordingQueue(env.JOBS);
let ingest = recordingQueue(env.INGEST);
const app = adminRoutes(sources, find);
function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const init: RequestInit = { method, headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return app.fetch(new Request(`https://dock.example${path}`, init), { ...env, JOBS: jobs.queue, INGEST: ingest.queue });
}
const audit = async () =>
  (
    await env.DB.prepare("SELECT * FROM admin_audit ORDER BY id").all<{
      actor: string;
      claimed_actor: string | null;
      action: string;
      params: string | null;
      status: number;
      method: string;
      path: string;
    }>()
  ).results;

const MUTATIONS: [string, string, unknown][] = [
  ["POST", "/admin/streams/opspoll/items/run", {}],
  ["PUT", "/admin/streams/opspoll/items/cursor", { cursor: "1" }],
  ["DELETE", "/admin/streams/opspoll/items/cursor", undefined],
  ["POST", "/admin/streams/opspoll/items/backfill", { from: "2026-11-01T00:00:00Z" }],
  ["PUT", "/admin/streams/opspoll/items/slo", { max_silence_minutes: 5 }],
  ["POST", "/admin/sources/opspoll/pause", {}],
  ["POST", "/admin/sources/opspoll/resume", {}],
  ["POST", "/admin/sources/opshook/reconcile", {}],
  ["POST", "/admin/dlq/redrive", {}],
  ["GET", "/admin/runs", undefined],
  ["GET", "/admin/dlq", undefined],
  ["GET", "/admin/audit", undefined],
  ["GET", "/admin/health", undefined],
];

describe("admin API", () => {
  beforeEach(async () => {
    await clearOps();
    jobs = recordingQueue(env.JOBS);
    ingest = recordingQueue(env.INGEST);
  });

  it("given no token or a wrong one, when any admin call is made, then 401, nothing happens, and the attempt is audited without the token", async () => {
    for (const [method, path, body] of MUTATIONS) {
      expect((await call(method, path, body, {})).status, `${method} ${path}`).toBe(401);
      expect((await call(method, path, body, { authorization: "Bearer guessed-token" })).status, `${method} ${path}`).toBe(401);
    }
    expect(jobs.sent).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM source_controls").first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM cursors").first("n")).toBe(0);
    const rows = await audit();
    expect(rows).toHaveLength(MUTATIONS.length * 2);
    expect(rows.every((r) => r.status === 401)).toBe(true);
    expect(rows.filter((r) => r.actor === "anonymous")).toHaveLength(MUTATIONS.length);
    const wrong = `invalid-token:${(await sha256Hex("guessed-token")).slice(0, 12)}`;
    expect(rows.filter((r) => r.actor === wrong)).toHaveLength(MUTATIONS.length);
    expect(JSON.stringify(rows)).not.toContain("guessed-token");
  });

  it("given the admin token, when a source is paused, then the audit says who (fingerprint and claimed name), what, when and with which parameters", async () => {
    const res = await call(
      "POST",
      "/admin/sources/opspoll/pause",
      { reason: "vendor maintenance" },
      { authorization: `Bearer ${TOKEN}`, "x-dock-actor": "alice" },
    );
    expect(res.status).toBe(200);
    const [row] = await audit();
    expect(row).toMatchObject({
      actor: `token:${(await sha256Hex(TOKEN)).slice(0, 12)}`,
      claimed_actor: "alice",
      method: "POST",
      path: "/admin/sources/opspoll/pause",
      action: "pause source",
      status: 200,
    });
    expect(JSON.parse(row?.params ?? "{}")).toMatchObject({ body: { reason: "vendor maintenance" } });
    expect(JSON.stringify(await audit())).not.toContain(TOKEN);
    expect(await env.DB.prepare("SELECT paused, reason, changed_by FROM source_controls WHERE source = 'opspoll'").first()).toEqual({
      paused: 1,
      reason: "vendor maintenance",
      changed_by: row?.actor,
    });
  });

  it("given a paused source, then the scheduler drops its jobs, run-now refuses without force; when resumed, then both go again", async () => {
    await call("POST", "/admin/sources/opspoll/pause", {});
    const planned = [
      { kind: "poll", source: "opspoll", stream: "items" },
      { kind: "poll", source: "other", stream: "x" },
      { kind: "prune" },
    ];
    expect(await withoutPausedSources(env.DB, planned)).toEqual(planned.slice(1));
    expect((await call("POST", "/admin/streams/opspoll/items/run", {})).status).toBe(409);
    expect((await call("POST", "/admin/streams/opspoll/items/run", { force: true })).status).toBe(202);
    await call("POST", "/admin/sources/opspoll/resume", {});
    expect(await withoutPausedSources(env.DB, planned)).toEqual(planned);
    expect((await call("POST", "/admin/streams/opspoll/items/run", {})).status).toBe(202);
    expect(jobs.sent).toHaveLength(2);
  });

  it("given run-now, then one poll job (a full refresh when asked for) goes on JOBS with a fresh run id; an unknown stream is 404", async () => {
    const res = await call("POST", "/admin/streams/opspoll/items/run", {});
    expect(res.status).toBe(202);
    expect(jobs.sent[0]).toMatchObject({
      kind: "poll",
      source: "opspoll",
      stream: "items",
      run_id: expect.stringMatching(/^poll-\d{8}T\d{6}-[0-9a-f]{8}$/),
    });
    expect((await call("POST", "/admin/streams/opspoll/plans/run", {})).status).toBe(422);
    expect((await call("POST", "/admin/streams/opspoll/plans/run", { pattern: "full_refresh" })).status).toBe(202);
    expect(jobs.sent[1]).toMatchObject({ kind: "full_refresh", source: "opspoll", stream: "plans" });
    expect((await call("POST", "/admin/streams/opspoll/nope/run", {})).status).toBe(404);
    expect((await call("POST", "/admin/streams/opshook/events/run", {})).status).toBe(404);
    expect((await call("POST", "/admin/streams/opspoll/items/run", "{not json")).status).toBe(400);
    expect(jobs.sent).toHaveLength(2);
  });

  it("given a cursor set, then the stored cursor changes (before and after are audited); reset forgets it; a stream without cursor is 422", async () => {
    await env.DB.prepare("INSERT INTO cursors VALUES ('opspoll', 'items', '1700000000', 'r1', '2026-11-01T00:00:00Z')").run();
    const set = await call("PUT", "/admin/streams/opspoll/items/cursor", { cursor: "1600000000" });
    expect(await set.json()).toMatchObject({ cursor_before: "1700000000", cursor: "1600000000" });
    expect(await env.DB.prepare("SELECT cursor FROM cursors WHERE source = 'opspoll'").first("cursor")).toBe("1600000000");
    expect((await call("DELETE", "/admin/streams/opspoll/items/cursor")).status).toBe(200);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM cursors").first("n")).toBe(0);
    expect((await call("PUT", "/admin/streams/opspoll/plans/cursor", { cursor: "x" })).status).toBe(422);
    expect((await call("PUT", "/admin/streams/opspoll/items/cursor", { cursor: 5 })).status).toBe(400);
    const actions = (await audit()).map((r) => [r.action, r.status]);
    expect(actions).toEqual([
      ["set cursor", 200],
      ["reset cursor", 200],
      ["set cursor", 422],
      ["PUT /admin/streams/opspoll/items/cursor", 400],
    ]);
    expect(JSON.parse((await audit())[0]?.params ?? "{}").effect).toMatchObject({ cursor_before: "1700000000" });
  });

  it("given a backfill of a polled stream, then its cursor goes back to `from` in the stream's format and a poll is queued", async () => {
    const res = await call("POST", "/admin/streams/opspoll/items/backfill", { from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" });
    expect(await env.DB.prepare("SELECT cursor FROM cursors WHERE source = 'opspoll' AND stream = 'items'").first("cursor")).toBe(
      String(Date.parse("2026-11-01T00:00:00Z") / 1000),
    );
    expect(jobs.sent).toEqual([expect.objectContaining({ kind: "poll", source: "opspoll", stream: "items" })]);
    expect(
      (await call("POST", "/admin/streams/opspoll/items/backfill", { from: "2026-11-02T00:00:00Z", to: "2026-11-01T00:00:00Z" })).status,
    ).toBe(400);
  });

  it("given reconcile-now or a backfill of a webhook stream, then a reconcile job of the range is queued", async () => {
    const [from1, from2, to2] = [daysAgo(5), daysAgo(20), daysAgo(18)];
    const res = await call("POST", "/admin/sources/opshook/reconcile", { from: from1 });
    expect(res.status).toBe(202);
    const back = await call("POST", "/admin/streams/opshook/events/backfill", { from: from2, to: to2 });
    expect(back.status).toBe(202);
    expect((await call("POST", "/admin/sources/opshook/reconcile", {})).status).toBe(202);
    expect(jobs.sent).toEqual([
      { kind: "reconcile", source: "opshook", from: from1 },
      { kind: "reconcile", source: "opshook", from: from2, to: to2 },
      { kind: "reconcile", source: "opshook" },
    ]);
  });

  it("given a source that cannot be reconciled, a window older than the vendor's history or an unknown source, then refused and nothing queued", async () => {
    const unlistedRes = await call("POST", "/admin/sources/opsunlisted/reconcile", { from: daysAgo(1) });
    expect(unlistedRes.status).toBe(422);
    expect(await unlistedRes.json()).toEqual({ error: "opsunlisted is not reconcilable: the vendor has no event listing" });
    const old = await call("POST", "/admin/sources/opshook/reconcile", { from: daysAgo(45) });
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: string }).error).toContain("keeps its listing for 30 days");
    expect((await call("POST", "/admin/sources/nosuch/reconcile", {})).status).toBe(404);
    expect((await call("POST", "/admin/sources/opspoll/reconcile", {})).status).toBe(404);
    expect(jobs.sent).toEqual([]);
  });

  it("given a declared SLO, then the stream is judged by it; a nonsense SLO is 400", async () => {
    await aRun(new Date(), { source: "opspoll", stream: "items", records: 3, minutesAgo: 45 });
    const before = (await (await call("GET", "/admin/health")).json()) as { streams: { stream: string; state: string }[] };
    expect(before.streams.find((s) => s.stream === "items")?.state).toBe("late");
    expect((await call("PUT", "/admin/streams/opspoll/items/slo", { max_silence_minutes: 120, zero_record_runs: 5 })).status).toBe(200);
    const after = (await (await call("GET", "/admin/health")).json()) as {
      streams: { stream: string; state: string; slo_seconds: number; zero_record_runs: number }[];
    };
    expect(after.streams.find((s) => s.stream === "items")).toMatchObject({ state: "fresh", slo_seconds: 7200, zero_record_runs: 5 });
    expect((await call("PUT", "/admin/streams/opspoll/items/slo", { max_silence_minutes: 0 })).status).toBe(400);
    expect((await audit()).map((r) => [r.action, r.status]).filter(([a]) => a === "declare slo")).toEqual([["declare slo", 200]]);
  });

  it("given runs, then list runs filters by source, stream and status, newest first", async () => {
    const now = new Date();
    await aRun(now, { source: "opspoll", stream: "items", records: 1, minutesAgo: 30 });
    const failed = await aRun(now, { source: "opspoll", stream: "items", records: 0, minutesAgo: 10, status: "failed", error: "boom" });
    await aRun(now, { source: "opspoll", stream: "plans", records: 5, minutesAgo: 5 });
    const all = (await (await call("GET", "/admin/runs?source=opspoll")).json()) as { runs: { id: string; stream: string }[] };
    expect(all.runs.map((r) => r.stream)).toEqual(["plans", "items", "items"]);
    const onlyFailed = (await (await call("GET", "/admin/runs?source=opspoll&stream=items&status=failed")).json()) as {
      runs: { id: string; error: string }[];
    };
    expect(onlyFailed.runs).toEqual([expect.objectContaining({ id: failed, error: "boom" })]);
    expect((await call("GET", "/admin/runs?status=weird")).status).toBe(400);
  });

  it("given messages in a DLQ, then they are parked and counted, and a re-drive sends them back to their queue once", async () => {
    const bundle = {
      kind: "bundle",
      v: 1,
      source: "opshook",
      stream: "events",
      pattern: "webhook",
      received_at: "2026-11-25T07:00:00.000Z",
      records: [],
    };
    const batch = createMessageBatch("loading-dock-ingest-dlq", [
      { id: "dead-1", timestamp: new Date(), attempts: 11, body: bundle },
      { id: "dead-2", timestamp: new Date(), attempts: 11, body: { ...bundle, stream: "other" } },
    ]);
    await parkDeadLetters(env, batch);
    await parkDeadLetters(env, batch); // a DLQ redelivery parks nothing twice
    const health = (await (await call("GET", "/admin/health")).json()) as { dlq: Record<string, number> };
    expect(health.dlq.ingest).toBe(2);
    const listed = (await (await call("GET", "/admin/dlq")).json()) as { letters: { id: string; source: string; stream: string }[] };
    expect(listed.letters.map((l) => `${l.id}:${l.source}.${l.stream}`).sort()).toEqual(["dead-1:opshook.events", "dead-2:opshook.other"]);

    const redrive = await call("POST", "/admin/dlq/redrive", { queue: "ingest" });
    expect(await redrive.json()).toEqual({ redriven: 2, skipped: 0, failed: null });
    expect(ingest.sent).toEqual([bundle, { ...bundle, stream: "other" }]);
    expect(await (await call("POST", "/admin/dlq/redrive", {})).json()).toEqual({ redriven: 0, skipped: 0, failed: null });
    expect(((await (await call("GET", "/admin/health")).json()) as { dlq: Record<string, number> }).dlq.ingest).toBe(0);
  });

  it("given a DLQ batch through the Worker's queue handler, then it is parked, not handed to the jobs consumer", async () => {
    const batch = createMessageBatch("loading-dock-jobs-dlq", [
      { id: "dead-job", timestamp: new Date(), attempts: 11, body: { kind: "poll", source: "opspoll", stream: "items" } },
    ]);
    await worker.queue(batch, env as never);
    expect(await env.DB.prepare("SELECT queue, source FROM dead_letters WHERE id = 'dead-job'").first()).toEqual({
      queue: "jobs",
      source: "opspoll",
    });
  });
});

describe("POST /ingest/health (the sidecar's report)", () => {
  const secret = "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";
  const post = (payload: string, sign = secret) => {
    const id = `msg_${crypto.randomUUID()}`;
    const ts = new Date();
    const signature = new Webhook(sign).sign(id, ts, payload);
    return dispatch(
      new Request("https://dock.example/ingest/health", {
        method: "POST",
        body: payload,
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
          "webhook-signature": signature,
        },
      }),
    );
  };
  beforeEach(clearOps);

  it("given a signed report, then it is stored; a forged one is 401 and a malformed one 422, and neither changes it", async () => {
    const report = {
      source: "app_db",
      slot: "loading_dock",
      state: "streaming",
      slot_lag_bytes: 4096,
      wal_status: "reserved",
      safe_wal_size: 1 << 30,
      heartbeat_at: new Date().toISOString(),
      durable_lsn: "0/16B3748",
    };
    expect((await post(JSON.stringify(report))).status).toBe(200);
    expect(
      await env.DB.prepare("SELECT slot_lag_bytes, wal_status, durable_lsn FROM sidecar_health WHERE source = 'app_db'").first(),
    ).toEqual({
      slot_lag_bytes: 4096,
      wal_status: "reserved",
      durable_lsn: "0/16B3748",
    });
    expect((await post(JSON.stringify({ ...report, slot_lag_bytes: 1 }), "whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0IQ==")).status).toBe(
      401,
    );
    expect((await post(JSON.stringify({ ...report, wal_status: "fine" }))).status).toBe(422);
    expect((await post("{")).status).toBe(400);
    expect(await env.DB.prepare("SELECT slot_lag_bytes FROM sidecar_health").first("slot_lag_bytes")).toBe(4096);
  });

  it.each([
    ["a vendor source", "stripe", /^refused health report at source: source "stripe" is a vendor source of this Worker/],
    [
      "a source not in CDC_SOURCES",
      "billing_db",
      /^refused health report at source: source "billing_db" is not declared for the sidecar's door/,
    ],
  ])("given a signed report for %s, then 403 and nothing is stored", async (_n, source, error) => {
    const res = await post(JSON.stringify({ source, slot: "loading_dock", state: "failed", error: "slot dropped" }));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(error);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM sidecar_health").first("n")).toBe(0);
  });
});
