import { dispatch } from "../helpers/dispatch";
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { dockId } from "../../src/envelope/dock-id";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { isListing, isRecordListing } from "../../src/reconcile/types";
import { handleScheduled } from "../../src/scheduled";
import { defineSource } from "../../src/sources/define-source";
import { github } from "../../src/sources/github";
import { segment } from "../../src/sources/segment";
import { sources } from "../../src/sources/registry";
import { readEnvelopes } from "../helpers/raw-zone";
import { aDelivery, type DeliveryFixture, GITHUB_TOKEN, githubBundles, githubDeliveriesApi, HOOK_ID, REPO } from "./github-fixtures";
import {
  installVendor,
  ledgerRows,
  reconcileEnv,
  recordingQueue,
  seeded,
  sourceState,
  stripeEvents,
  stripeEventsApi,
  stripeNamed,
  webhookBundles,
  writeRaw,
} from "./helpers";

const HOUR = 3_600_000;
const restore: (() => void)[] = [];
afterEach(() => {
  for (const r of restore.splice(0)) r();
});

describe("reconciliation of GitHub deliveries", () => {
  it("given deliveries of which some failed and never reached us, when reconciliation runs, then only the missing GUIDs are fetched and land once with the webhook's _dock.id", async () => {
    const source = defineSource({ ...github, name: "github_rc" });
    const rng = seeded(3);
    const now = Date.now();
    const recent = Array.from({ length: 250 }, (_, i) => {
      const b = aDelivery()
        .at(now - 10 * 60_000 - i * 4 * 60_000)
        .of(i % 3 === 0 ? "pull_request" : "issues", i % 7 === 0 ? "deleted" : "opened");
      return rng() < 0.05 ? b.failed().build() : b.build();
    });
    const missing = recent.filter((d) => d.status_code !== 200);
    // Three failed deliveries were redelivered later, successfully: same GUID, a new attempt.
    const redelivered = missing.slice(0, 3).map((d) => ({
      ...aDelivery()
        .at(now - 6 * 60_000)
        .redelivered()
        .build(),
      guid: d.guid,
      event: d.event,
      action: d.action,
      payload: d.payload,
    }));
    // Older than the window: never listed past, never fetched.
    const old = Array.from({ length: 20 }, (_, i) =>
      aDelivery()
        .at(now - 30 * HOUR - i * 60_000)
        .failed()
        .build(),
    );
    const reached = [...recent.filter((d) => d.status_code === 200), ...redelivered];
    await writeRaw(await githubBundles(source.name, reached));

    const api = githubDeliveriesApi([...recent, ...redelivered, ...old]);
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const ingest = recordingQueue();
    const envWith = reconcileEnv({
      INGEST: ingest,
      GITHUB_API_TOKEN: GITHUB_TOKEN,
      GITHUB_RECONCILE_REPO: REPO,
      GITHUB_RECONCILE_HOOK_ID: HOOK_ID,
    });
    const outcome = await runReconcileStep(envWith, source, { kind: "reconcile", source: source.name }, { budget: { pages: 100 } });
    expect(api.violations).toEqual([]);
    const stillMissing = missing.slice(3);
    expect(outcome).toMatchObject({ status: "succeeded", recovered: stillMissing.length, missing: 0 });
    expect(new Set(api.detailCalls)).toEqual(new Set(stillMissing.map((d) => d.guid)));
    expect(api.detailCalls.length).toBe(stillMissing.length);
    expect(api.listCalls.length).toBe(3);
    expect(api.listCalls[0]?.searchParams.get("per_page")).toBe("100");
    await writeRaw(ingest.take());

    const guids = new Set(recent.map((d) => d.guid));
    const envelopes = (await readEnvelopes(`raw/source=${source.name}/`)).filter((e) => guids.has(String(e._dock.version)));
    expect(envelopes.length).toBe(250);
    expect(new Set(envelopes.map((e) => e._dock.id)).size).toBe(250);
    for (const d of stillMissing) {
      const got = envelopes.find((e) => e._dock.version === d.guid);
      expect(got?._dock.pattern).toBe("reconcile");
      expect(got?._dock.stream).toBe(d.event);
      expect(got?._dock.op).toBe(d.action === "deleted" ? "delete" : "event");
      expect(got?._dock.id).toBe(await dockId(source.name, d.event, d.guid, d.guid));
      expect(got?.data).toEqual(d.payload);
    }
    const rows = await ledgerRows(source.name);
    expect(rows.reduce((n, r) => n + (r.expected ?? 0), 0)).toBe(250);
    expect(rows.reduce((n, r) => n + (r.recovered ?? 0), 0)).toBe(stillMissing.length);
  }, 120_000);

  it("given a missing delivery whose payload GitHub no longer gives, when reconciliation runs, then the ledger counts it missing and the day is incomplete", async () => {
    const source = defineSource({ ...github, name: "github_rc_gone" });
    const now = Date.now();
    const [kept, gone, back] = [0, 1, 2].map((i) =>
      aDelivery()
        .at(now - HOUR - i * 60_000)
        .failed()
        .build(),
    ) as [DeliveryFixture, DeliveryFixture, DeliveryFixture];
    await writeRaw(await githubBundles(source.name, [kept]));
    const api = githubDeliveriesApi([kept, gone, back], { payloadGone: new Set([gone.guid]) });
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const ingest = recordingQueue();
    const envWith = reconcileEnv({
      INGEST: ingest,
      GITHUB_API_TOKEN: GITHUB_TOKEN,
      GITHUB_RECONCILE_REPO: REPO,
      GITHUB_RECONCILE_HOOK_ID: HOOK_ID,
    });
    const outcome = await runReconcileStep(envWith, source, { kind: "reconcile", source: source.name });
    expect(outcome).toMatchObject({ status: "succeeded", listed: 3, received: 1, recovered: 1, missing: 1 });
    const day = new Date(now - HOUR).toISOString().slice(0, 10);
    const row = (await ledgerRows(source.name)).find((r) => r.day === day);
    expect(row).toMatchObject({ expected: 3, received: 1, recovered: 1, missing: 1, status: "incomplete" });
    expect(row?.detail).toMatch(/1 event\(s\) listed by the vendor could not be recovered/);
  }, 60_000);

  it("given no repository configured, when the run starts, then it fails saying which setting is missing and the watermark stays unset", async () => {
    const source = defineSource({ ...github, name: "github_rc_unset" });
    const outcome = await runReconcileStep(reconcileEnv({ GITHUB_API_TOKEN: GITHUB_TOKEN }), source, {
      kind: "reconcile",
      source: source.name,
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/GITHUB_RECONCILE_REPO is not set/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
  });
});

describe("sources without a listing, the nightly cron, the jobs consumer and /status", () => {
  it("given a live run holding the source, when another reconciliation starts, then it stands aside; once that run's heartbeat is 30 minutes old, the next one takes over", async () => {
    const source = stripeNamed("stripe_rc_lock");
    const api = stripeEventsApi([]);
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const fresh = new Date().toISOString();
    await env.DB.prepare(
      "INSERT INTO runs (id, source, stream, pattern, status, started_at, state) VALUES ('rec-held', ?1, '_all', 'reconcile', 'running', ?2, '{}')",
    )
      .bind(source.name, fresh)
      .run();
    await env.DB.prepare("INSERT INTO reconcile_state (source, active_run_id, heartbeat_at, updated_at) VALUES (?1, 'rec-held', ?2, ?2)")
      .bind(source.name, fresh)
      .run();
    expect((await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name })).status).toBe("skipped");
    expect(api.calls).toEqual([]);

    const stale = new Date(Date.now() - 31 * 60_000).toISOString();
    await env.DB.prepare("UPDATE reconcile_state SET heartbeat_at = ?2 WHERE source = ?1").bind(source.name, stale).run();
    const taken = await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name });
    expect(taken.status).toBe("succeeded");
    const held = await env.DB.prepare("SELECT status, error FROM runs WHERE id = 'rec-held'").first<{ status: string; error: string }>();
    expect(held).toMatchObject({ status: "failed", error: `abandoned: no heartbeat since ${stale}` });

    // A job message retried after it took the source but before its run row existed takes it again.
    await env.DB.prepare("UPDATE reconcile_state SET active_run_id = 'rec-crashed', heartbeat_at = ?2 WHERE source = ?1")
      .bind(source.name, new Date().toISOString())
      .run();
    const retried = await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name, run_id: "rec-crashed" });
    expect(retried).toMatchObject({ status: "succeeded", runId: "rec-crashed" });
    expect((await sourceState(source.name))?.active_run_id).toBeNull();
  });

  it("given a run that just reconciled up to now minus the settle delay, when another comes at once with no overlap, then it asks nothing and moves nothing", async () => {
    const base = stripeNamed("stripe_rc_idle");
    const spec = base.reconcile as Exclude<typeof base.reconcile, { unsupported: string } | undefined>;
    const source = stripeNamed("stripe_rc_idle", { reconcile: { ...spec, overlapSeconds: 0 } });
    const api = stripeEventsApi([]);
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const t = Date.now();
    const clock = { now: () => t, sleep: async () => {} };
    const first = await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name }, { clock });
    expect(first.status).toBe("succeeded");
    const mark = (await sourceState(source.name))?.reconciled_to;
    expect(mark).toBe(new Date(t - 15 * 60_000).toISOString());
    const second = await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name }, { clock });
    expect(second.status).toBe("nothing_to_do");
    expect(api.calls.length).toBe(1);
    expect((await sourceState(source.name))?.reconciled_to).toBe(mark);
  });

  it("given Segment, which lists nothing it sent, when its reconciliation runs, then the ledger says not reconcilable with the reason, never complete", async () => {
    const outcome = await runReconcileStep(reconcileEnv(), segment, { kind: "reconcile", source: "segment" });
    expect(outcome.status).toBe("not_reconcilable");
    const rows = await ledgerRows("segment");
    const today = new Date().toISOString().slice(0, 10);
    const row = rows.find((r) => r.day === today);
    expect(row).toMatchObject({ status: "not reconcilable", expected: null, missing: null });
    expect(row?.detail).toMatch(/^not reconcilable: Segment /);
    expect(rows.some((r) => r.status === "complete")).toBe(false);
  });

  it("given every webhook source, then each either lists its vendor's events or says why it cannot", () => {
    for (const s of sources.filter((x) => x.webhook)) {
      expect(s.reconcile, s.name).toBeDefined();
      if (s.reconcile && "unsupported" in s.reconcile) expect(s.reconcile.unsupported.length, s.name).toBeGreaterThan(40);
    }
    expect(sources.filter((s) => isListing(s.reconcile)).map((s) => s.name)).toEqual(["stripe", "github"]);
    expect(sources.filter((s) => isRecordListing(s.reconcile)).map((s) => s.name)).toEqual(
      expect.arrayContaining(["hubspot", "intercom", "klaviyo"]),
    );
  });

  it("given the nightly cron, when it fires, then one reconcile job per webhook source goes to JOBS", async () => {
    const jobs = recordingQueue();
    await handleScheduled({ cron: "17 3 * * *", scheduledTime: Date.now() }, { ...env, JOBS: jobs } as never);
    const reconciles = (jobs.take() as { kind: string; source: string; run_id?: string }[]).filter((j) => j.kind === "reconcile");
    expect(reconciles.map((j) => j.source).sort()).toEqual(
      sources
        .filter((s) => s.webhook)
        .map((s) => s.name)
        .sort(),
    );
    expect(reconciles.every((j) => /^rec-/.test(j.run_id ?? ""))).toBe(true);
  });

  it("given a reconcile job on JOBS, when the consumer takes it, then it runs and acknowledges it", async () => {
    const batch = createMessageBatch("loading-dock-jobs", [
      { id: "j1", timestamp: new Date(), attempts: 1, body: { kind: "reconcile", source: "segment" } },
    ]);
    await processJobsBatch(env, batch);
    expect(await sourceState("segment")).toMatchObject({ last_status: "not reconcilable" });
  });

  it("given a listing longer than one invocation's budget, when it runs, then it continues on JOBS and the watermark moves only when the last page is done", async () => {
    const source = stripeNamed("stripe_rc_cont");
    const events = stripeEvents("ct", 450, (i) => Math.floor(Date.now() / 1000) - 3600 - i * 60);
    await writeRaw(
      await webhookBundles(
        source.name,
        events.filter((_, i) => i % 9 !== 0),
      ),
    );
    const api = stripeEventsApi(events);
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const ingest = recordingQueue();
    const jobs = recordingQueue();
    const e = reconcileEnv({ INGEST: ingest, JOBS: jobs });
    const first = await runReconcileStep(e, source, { kind: "reconcile", source: source.name }, { budget: { pages: 2 } });
    expect(first.status).toBe("continued");
    expect((await sourceState(source.name))?.reconciled_to).toBeNull();
    const [next] = jobs.take() as { kind: "reconcile"; source: string; run_id: string }[];
    expect(next).toEqual({ kind: "reconcile", source: source.name, run_id: first.runId });
    const second = await runReconcileStep(e, source, next as never, { budget: { pages: 2 } });
    expect(second.status).toBe("continued");
    const third = await runReconcileStep(e, source, jobs.take()[0] as never, { budget: { pages: 2 } });
    expect(third).toMatchObject({ status: "succeeded", listed: 450, recovered: 50, runId: first.runId });
    expect((await sourceState(source.name))?.reconciled_to).toBe(third.window?.to);
    // A retried message of a finished run does nothing.
    expect((await runReconcileStep(e, source, next as never)).status).toBe("skipped");
    expect(api.violations).toEqual([]);
    expect(api.calls.length).toBe(5);
  });

  it("given the endpoint's event types configured, when Stripe is listed, then only those types are asked for and recovered", async () => {
    const source = stripeNamed("stripe_rc_types");
    const events = stripeEvents("ty", 120, (i) => Math.floor(Date.now() / 1000) - 3600 - i * 60);
    const api = stripeEventsApi(events);
    const spy = installVendor(api.handle);
    restore.push(() => spy.mockRestore());
    const ingest = recordingQueue();
    const e = reconcileEnv({ INGEST: ingest, STRIPE_RECONCILE_EVENT_TYPES: "charge.succeeded, invoice.paid" });
    const outcome = await runReconcileStep(e, source, { kind: "reconcile", source: source.name });
    const wanted = events.filter((x) => x.type === "charge.succeeded" || x.type === "invoice.paid");
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.length).toBeLessThan(events.length);
    expect(outcome).toMatchObject({ status: "succeeded", listed: wanted.length, recovered: wanted.length });
    expect(api.calls[0]?.searchParams.getAll("types[]")).toEqual(["charge.succeeded", "invoice.paid"]);
    expect(api.violations).toEqual([]);
  });

  it("given reconciliation state, when GET /status is asked, then every webhook source shows whether it is reconcilable and its ledger", async () => {
    await runReconcileStep(reconcileEnv(), segment, { kind: "reconcile", source: "segment" });
    const res = await dispatch(new Request("https://dock.example/status", { headers: { authorization: "Bearer test-admin-token" } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      reconciliation: { source: string; reconcilable: boolean; reason?: string; history_days?: number; days: { status: string }[] }[];
    };
    const bySource = new Map(body.reconciliation.map((r) => [r.source, r]));
    expect(bySource.get("stripe")).toMatchObject({ reconcilable: true, history_days: 30 });
    expect(bySource.get("github")).toMatchObject({ reconcilable: true, history_days: 3 });
    expect(bySource.get("hubspot")).toMatchObject({ reconcilable: true, history_days: 90 });
    expect(bySource.get("segment")?.reconcilable).toBe(false);
    expect(bySource.get("segment")?.reason).toMatch(/^Segment /);
    expect(bySource.get("segment")?.days[0]?.status).toBe("not reconcilable");
    expect(body.reconciliation.length).toBe(sources.filter((s) => s.webhook).length);
  });
});
