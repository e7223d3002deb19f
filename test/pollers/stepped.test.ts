import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readCursor } from "../../src/pollers/cursor";
import { localGate, openGate, SlotSchedule } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PollSource, StepContext, StepResult } from "../../src/pollers/types";
import { fakeClock, pollEnv, quietLogs, sentIds, VendorMock } from "./helpers";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

let counter = 0;
/** A source whose only stream is code: `step` gets the context and the state the last step left. */
function steppedSource(step: (ctx: StepContext, state: unknown) => Promise<StepResult>, over: Partial<PollSource> = {}): PollSource {
  return {
    name: `stepped${++counter}`,
    baseUrl: "https://api.vendor.test",
    ...over,
    streams: [{ name: "things", path: "/", records: "", primaryKey: "id", pagination: { style: "none" }, steps: { step } }],
  };
}
const job = (source: PollSource, run_id?: string) => ({
  kind: "poll" as const,
  source: source.name,
  stream: "things",
  ...(run_id ? { run_id } : {}),
});

describe("poll engine: stepped streams", () => {
  it("given three steps that each emit and move the cursor, when the Worker dies after step 2's records are on the queue, then the retry repeats only step 2 and the cursor never skips", async () => {
    const source = steppedSource(async (ctx, state) => {
      const n = (state as number | undefined) ?? 0;
      await ctx.emit([
        { key: `k${n}a`, json: `{"id":"k${n}a"}` },
        { key: `k${n}b`, json: `{"id":"k${n}b"}` },
      ]);
      return n < 2 ? { next: "step", state: n + 1, cursor: `c${n}` } : { next: "done", cursor: `c${n}` };
    });
    const env = pollEnv();
    env.INGEST.crashAfterSend = 2;
    const run = job(source, `poll-${source.name}`);

    await expect(runPollStep(env, source, run, { clock: fakeClock(), gate: openGate })).rejects.toThrow(/simulated crash/);
    expect(await readCursor(workerEnv.DB, source.name, "things")).toBe("c0");
    env.INGEST.crashAfterSend = 0;
    const out = await runPollStep(env, source, run, { clock: fakeClock(), gate: openGate });

    expect(out).toMatchObject({ status: "succeeded", pages: 3 });
    expect(await readCursor(workerEnv.DB, source.name, "things")).toBe("c2");
    const ids = sentIds(env.INGEST);
    expect(ids).toHaveLength(8); // step 2 was sent twice, with the same ids
    expect(new Set(ids).size).toBe(6);
  });

  it("given a step that says 'later', when it runs, then the invocation ends with a delayed continuation, the state waits in D1, and the next invocation resumes from it", async () => {
    const seen: unknown[] = [];
    const source = steppedSource(async (_ctx, state) => {
      seen.push(state);
      return state === undefined ? { next: "later", state: { job: "j-1" }, delayMs: 45_000 } : { next: "done" };
    });
    const env = pollEnv();
    const clock = fakeClock();
    const first = await runPollStep(env, source, job(source), { clock, gate: openGate });

    expect(first.status).toBe("deferred");
    expect(env.JOBS.messages).toEqual([
      { body: { kind: "poll", source: source.name, stream: "things", run_id: first.runId, page: 2 }, delaySeconds: 45 },
    ]);
    const row = await workerEnv.DB.prepare("SELECT state FROM runs WHERE id = ?1").bind(first.runId).first<{ state: string }>();
    expect(JSON.parse(row?.state ?? "{}").custom).toEqual({ job: "j-1" });
    const second = await runPollStep(env, source, job(source, first.runId), { clock, gate: openGate });
    expect(second.status).toBe("succeeded");
    expect(seen).toEqual([undefined, { job: "j-1" }]);
    // A duplicate of the continuation after the run finished does nothing.
    expect((await runPollStep(env, source, job(source, first.runId), { clock, gate: openGate })).status).toBe("skipped");
  });

  it("given a step that POSTs a body and accepts a 404, when it runs, then method, body and headers reach the vendor and the 404 is an answer, not a failure", async () => {
    const vendor = new VendorMock()
      .on("https://api.vendor.test/search?x=1", { body: '{"ok":true}' })
      .on("https://api.vendor.test/missing?", { status: 404, body: "no data" });
    vendor.install();
    const source = steppedSource(async (ctx) => {
      const posted = await ctx.fetch({
        method: "POST",
        url: "/search",
        query: { x: "1" },
        body: '{"q":"select"}',
        headers: { "x-extra": "yes" },
      });
      const missing = await ctx.fetch({ url: "missing", query: {}, acceptStatuses: [404] });
      return { next: "done", note: `${posted.status}/${missing.status}/${missing.text}` };
    });
    const out = await runPollStep(pollEnv(), source, job(source), { clock: fakeClock(), gate: openGate });

    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
    expect(vendor.requests[0]).toMatchObject({ method: "POST", body: '{"q":"select"}' });
    expect(vendor.requests[0]?.headers.get("content-type")).toBe("application/json");
    expect(vendor.requests[0]?.headers.get("x-extra")).toBe("yes");
    const row = await workerEnv.DB.prepare("SELECT error FROM runs WHERE id = ?1").bind(out.runId).first<{ error: string }>();
    expect(row?.error).toBe("200/404/no data");
  });

  it("given throttle hooks, when a 400 carries a quota code and a 200 carries high usage, then the 400 is retried after the source's wait and the usage pauses the rate gate", async () => {
    const vendor = new VendorMock().on(
      "https://api.vendor.test/r?",
      { status: 400, body: '{"code":"SLOW_DOWN"}' },
      { body: "{}", headers: { "x-usage": "90" } },
    );
    vendor.install();
    const clock = fakeClock();
    const waits: [number, string][] = [];
    const source = steppedSource(
      async (ctx) => {
        await ctx.fetch({ url: "r", query: {} });
        return { next: "done" };
      },
      {
        throttle: {
          classify: (a) => (a.text.includes("SLOW_DOWN") ? { reason: "slow down", waitMs: 12_000 } : undefined),
          usage: (h) => (Number(h.get("x-usage")) > 80 ? 90_000 : 0),
        },
      },
    );
    const gate = localGate(source.name, 1, clock, new SlotSchedule());
    const out = await runPollStep(pollEnv(), source, job(source), { clock, gate, onWait: (ms, why) => waits.push([ms, why]) });

    expect(out.status).toBe("succeeded");
    expect(waits[0]?.[1]).toBe("status 400: slow down");
    expect(waits[0]?.[0]).toBeGreaterThanOrEqual(12_000);
    expect(waits[1]).toEqual([90_000, "usage"]);
    expect(await gate.reserve()).toBeGreaterThan(80_000);
  });

  it("given a step that fails, when it runs, then the run fails with the step's error and the cursor stays at the last checkpoint", async () => {
    const source = steppedSource(async (ctx, state) => {
      if (state === undefined) {
        await ctx.emit([{ key: "a", json: '{"id":"a"}' }]);
        return { next: "step", state: 1, cursor: "c1" };
      }
      await ctx.emit([{ key: "bad", raw: "<html>", error: "not JSON" }]);
      return { next: "fail", error: "the vendor's job failed: JOB_ERROR" };
    });
    const env = pollEnv();
    const out = await runPollStep(env, source, job(source), { clock: fakeClock(), gate: openGate });

    expect(out).toMatchObject({ status: "failed", error: "the vendor's job failed: JOB_ERROR", records: 2 });
    expect(await readCursor(workerEnv.DB, source.name, "things")).toBe("c1");
    const lines = env.INGEST.messages.flatMap((m) => (m.body as { records: { line: string }[] }).records.map((r) => r.line));
    expect(lines[1]).toMatch(/"error":"not JSON".*"raw":"<html>"/);
  });
});
