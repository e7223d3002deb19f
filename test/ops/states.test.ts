import { describe, expect, it } from "vitest";
import { sidecarCondition } from "../../src/ops/sidecar-health";
import { defaultSlo } from "../../src/ops/slo";
import { judgeStream, type StreamFacts } from "../../src/ops/states";

const NOW = new Date("2026-11-25T12:00:00.000Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const run = (records: number, minutes: number, status = "succeeded", error: string | null = null) => ({
  status,
  records,
  finishedAt: minutesAgo(minutes),
  error,
});

function webhook(over: Partial<StreamFacts> = {}): StreamFacts {
  return {
    pattern: "webhook",
    slo: defaultSlo("webhook"),
    paused: false,
    lastReceivedAt: minutesAgo(5),
    recentRuns: [],
    usuallyBusy: true,
    ...over,
  };
}
function poll(over: Partial<StreamFacts> = {}): StreamFacts {
  return {
    pattern: "poll",
    slo: defaultSlo("poll", 15),
    paused: false,
    lastReceivedAt: null,
    recentRuns: [run(10, 5)],
    usuallyBusy: false,
    ...over,
  };
}

describe("freshness states", () => {
  it("given a busy webhook stream, when silence grows past the SLO and then twice it, then fresh → late → stale", () => {
    expect(judgeStream(webhook({ lastReceivedAt: minutesAgo(59) }), NOW)).toMatchObject({ state: "fresh", sloSeconds: 3600 });
    expect(judgeStream(webhook({ lastReceivedAt: minutesAgo(61) }), NOW)).toMatchObject({ state: "late", lagSeconds: 61 * 60 });
    expect(judgeStream(webhook({ lastReceivedAt: minutesAgo(121) }), NOW).state).toBe("stale");
  });

  it("given a quiet webhook stream, when it is silent for a day, then it is still fresh (silence is normal)", () => {
    const j = judgeStream(webhook({ usuallyBusy: false, lastReceivedAt: minutesAgo(24 * 60) }), NOW);
    expect(j.state).toBe("fresh");
    expect(j.reason).toContain("quiet");
  });

  it("given a poll stream of 15 minutes, when its last successful run ages, then the SLO is 2× the interval", () => {
    expect(judgeStream(poll({ recentRuns: [run(3, 29)] }), NOW)).toMatchObject({ state: "fresh", sloSeconds: 1800 });
    expect(judgeStream(poll({ recentRuns: [run(3, 31)] }), NOW).state).toBe("late");
    expect(judgeStream(poll({ recentRuns: [run(3, 61)] }), NOW).state).toBe("stale");
    expect(judgeStream(poll({ slo: defaultSlo("poll", 60), recentRuns: [run(3, 61)] }), NOW)).toMatchObject({
      state: "fresh",
      sloSeconds: 7200,
    });
  });

  it("given a failed last run, then failing with the run's error and the streak; when a run succeeds again, then fresh (recovery)", () => {
    const failing = judgeStream(
      poll({ recentRuns: [run(0, 1, "failed", "HTTP 500 at page 2"), run(0, 16, "failed", "x"), run(4, 31)] }),
      NOW,
    );
    expect(failing.state).toBe("failing");
    expect(failing.reason).toContain("2 failed run(s) in a row: HTTP 500 at page 2");
    const recovered = judgeStream(poll({ recentRuns: [run(5, 1), run(0, 16, "failed", "x"), run(4, 31)] }), NOW);
    expect(recovered.state).toBe("fresh");
  });

  it("given a stream that usually brings records, when 3 runs in a row bring none, then zero-record; 2 empty runs are not enough", () => {
    const history = [run(12, 20), run(9, 35), run(15, 50), run(11, 65)];
    expect(judgeStream(poll({ recentRuns: [run(0, 1), run(0, 5), ...history] }), NOW).state).toBe("fresh");
    const zero = judgeStream(poll({ recentRuns: [run(0, 1), run(0, 5), run(0, 10), ...history] }), NOW);
    expect(zero.state).toBe("zero-record");
    expect(zero.reason).toContain("last 3 runs succeeded with 0 records");
    // recovery: the next run brings records again
    expect(judgeStream(poll({ recentRuns: [run(7, 1), run(0, 5), run(0, 10), run(0, 15), ...history] }), NOW).state).toBe("fresh");
  });

  it("given a stream that usually brings nothing, when runs bring nothing, then it is not zero-record", () => {
    const j = judgeStream(poll({ recentRuns: [run(0, 1), run(0, 5), run(0, 10), run(0, 15), run(0, 20), run(1, 25)] }), NOW);
    expect(j.state).toBe("fresh");
  });

  it("given a declared zero-record threshold of 5, then 4 empty runs stay fresh", () => {
    const slo = { maxSilenceMinutes: 30, zeroRecordRuns: 5, origin: "declared" as const };
    const runs = [run(0, 1), run(0, 2), run(0, 3), run(0, 4), run(9, 5), run(9, 6), run(9, 7)];
    expect(judgeStream(poll({ slo, recentRuns: runs }), NOW).state).toBe("fresh");
  });

  it("given a paused source, then paused wins over every other state, and resuming shows the real state", () => {
    const facts = poll({ recentRuns: [run(0, 1, "failed", "boom")] });
    expect(judgeStream({ ...facts, paused: true }, NOW).state).toBe("paused");
    expect(judgeStream(facts, NOW).state).toBe("failing");
  });

  it("given a CDC stream, then freshness is the sidecar heartbeat (5 minutes), and a lost slot is failing", () => {
    const sidecar = { heartbeatAt: minutesAgo(2), reportedAt: minutesAgo(1), walStatus: "reserved", state: "streaming", error: null };
    const cdc = (s: typeof sidecar): StreamFacts => ({
      ...webhook(),
      pattern: "cdc",
      slo: defaultSlo("cdc"),
      lastReceivedAt: minutesAgo(600),
      sidecar: s,
    });
    expect(judgeStream(cdc(sidecar), NOW)).toMatchObject({ state: "fresh", sloSeconds: 300 });
    expect(judgeStream(cdc({ ...sidecar, heartbeatAt: minutesAgo(6) }), NOW).state).toBe("late");
    expect(judgeStream(cdc({ ...sidecar, heartbeatAt: minutesAgo(11) }), NOW).state).toBe("stale");
    expect(judgeStream(cdc({ ...sidecar, walStatus: "lost" }), NOW).state).toBe("failing");
  });

  it("given a poll stream that never succeeded, then late (it should have run by now)", () => {
    expect(judgeStream(poll({ recentRuns: [] }), NOW)).toMatchObject({ state: "late", lagSeconds: null });
  });
});

describe("sidecar condition", () => {
  const base = {
    source: "app_db",
    slot: "loading_dock",
    state: "streaming",
    slotLagBytes: 1024,
    walStatus: "reserved",
    safeWalSize: 1 << 30,
    heartbeatAt: minutesAgo(1),
    durableLsn: "0/1",
    error: null,
    reportedAt: minutesAgo(0.5),
  };

  it("given reports over time, then ok, silent, slot-lag (unreserved, bytes, no heartbeat) and failing (lost, failed)", () => {
    expect(sidecarCondition(base, NOW).condition).toBe("ok");
    expect(sidecarCondition({ ...base, reportedAt: minutesAgo(6) }, NOW)).toMatchObject({ condition: "silent" });
    expect(sidecarCondition({ ...base, walStatus: "unreserved" }, NOW).condition).toBe("slot-lag");
    expect(sidecarCondition({ ...base, slotLagBytes: 2 * 1024 ** 3 }, NOW).reason).toBe(`slot lag ${2 * 1024 ** 3} bytes`);
    expect(sidecarCondition({ ...base, heartbeatAt: minutesAgo(6) }, NOW).condition).toBe("slot-lag");
    expect(sidecarCondition({ ...base, walStatus: "lost" }, NOW).condition).toBe("failing");
    expect(sidecarCondition({ ...base, state: "failed", error: "replication slot dropped" }, NOW)).toMatchObject({
      condition: "failing",
      reason: "sidecar failed: replication slot dropped",
    });
  });
});
