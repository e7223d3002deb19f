import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { demoItems, offsetPage } from "../../demo/fixtures";
import { snapshotManifestKey, snapshotPrefix } from "../../src/envelope/raw-keys";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { listKeys, readEnvelopes } from "../helpers/raw-zone";
import { aSource, deliverIngest, fakeClock, pollEnv, quietLogs, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const plans = demoItems(14, 1, "plan");

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

function offsetVendor() {
  const vendor = new VendorMock();
  for (let offset = 0; offset < plans.length; offset += 3) {
    vendor.on(`${BASE}?limit=3&offset=${offset}`, { body: offsetPage(plans.slice(offset, offset + 3), plans.length) });
  }
  return vendor;
}

describe("poll engine: full refresh", () => {
  it("given a refresh interrupted midway, then there is no manifest; resumed, it completes with every part and the right row count", async () => {
    const vendor = offsetVendor();
    vendor.install();
    const source = aSource({ records: "items", pagination: { style: "offset", totalPath: "total" }, fullRefresh: true });
    const env = pollEnv();
    const job = { kind: "full_refresh" as const, source: source.name, stream: "items", run_id: `fr-${source.name}` };
    const prefix = snapshotPrefix(source.name, "items", job.run_id);
    const manifestKey = snapshotManifestKey(source.name, "items", job.run_id);

    // First invocation: budget for 2 pages, then a continuation.
    const first = await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate, budget: { pages: 2 } });
    expect(first).toMatchObject({ status: "continued", pages: 2, records: 6 });
    await deliverIngest(env.INGEST);
    expect(await listKeys(prefix)).toHaveLength(2);
    expect(await workerEnv.RAW.head(manifestKey)).toBeNull();

    // The second invocation dies after its first page is on the queue (before the checkpoint).
    env.INGEST.crashAfterSend = env.INGEST.calls + 1;
    await expect(runPollStep(env, source, job, { clock: fakeClock(), gate: openGate })).rejects.toThrow(/simulated crash/);
    await deliverIngest(env.INGEST);
    expect(await workerEnv.RAW.head(manifestKey)).toBeNull();

    // The queue retries it: the run resumes from its checkpoint and finishes, then the manifest goes last.
    const done = await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate });
    expect(done).toMatchObject({ status: "succeeded", records: 14 });
    await deliverIngest(env.INGEST);

    const manifestObject = await workerEnv.RAW.get(manifestKey);
    expect(manifestObject).not.toBeNull();
    const manifest = JSON.parse((await manifestObject?.text()) as string);
    expect(manifest).toMatchObject({ complete: true, row_count: 14, rows_sent: 14, part_count: 5 });
    expect(manifest.parts.every((p: { sha256: string }) => /^[0-9a-f]{64}$/.test(p.sha256))).toBe(true);
    const rows = await readEnvelopes(prefix);
    expect(rows.map((r) => r._dock.key).sort()).toEqual(plans.map((p) => p.id).sort());
    expect(rows.every((r) => r._dock.pattern === "full_refresh" && r._dock.op === "snapshot")).toBe(true);
  });

  it("given the manifest message arrives before the last part is written, then it waits (retried) and writes nothing yet", async () => {
    const vendor = offsetVendor();
    vendor.install();
    const source = aSource({ records: "items", pagination: { style: "offset", totalPath: "total" }, fullRefresh: true });
    const env = pollEnv();
    const job = { kind: "full_refresh" as const, source: source.name, stream: "items", run_id: `fr-early-${source.name}` };
    await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate });

    // Deliver only the manifest (the last message): the parts are not in R2.
    const manifestOnly = env.INGEST.messages.filter((m) => (m.body as { kind: string }).kind === "manifest");
    const parts = env.INGEST.messages.filter((m) => (m.body as { kind: string }).kind !== "manifest");
    env.INGEST.messages.splice(0, env.INGEST.messages.length, ...manifestOnly);
    await deliverIngest(env.INGEST);
    expect(await workerEnv.RAW.head(snapshotManifestKey(source.name, "items", job.run_id))).toBeNull();

    env.INGEST.messages.push(...parts, ...manifestOnly);
    await deliverIngest(env.INGEST);
    expect(await workerEnv.RAW.head(snapshotManifestKey(source.name, "items", job.run_id))).not.toBeNull();
  });
});
