import { describe, expect, it } from "vitest";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { volumeCheck } from "../../src/reconcile/volume";
import { segment } from "../../src/sources/segment";
import { dispatch } from "../helpers/dispatch";
import { aBundle, aRecord } from "../helpers/fixtures";
import { reconcileEnv, writeRaw } from "./helpers";

const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("volume guard for webhook sources nobody can list", () => {
  it("given a day at 20% of the trailing 7-day median, then it is flagged; at 50%, or with under 3 days of history, it is not", () => {
    const usual = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"].map((day, i) => ({
      day,
      received: 95 + i * 2,
    }));
    expect(volumeCheck([...usual, { day: "2026-11-25", received: 20 }], "2026-11-26")).toEqual({
      day: "2026-11-25",
      received: 20,
      median: 101,
      share: 20 / 101,
      flagged: true,
    });
    expect(volumeCheck([...usual, { day: "2026-11-25", received: 50 }], "2026-11-26")?.flagged).toBe(false);
    // Today is still being counted: yesterday is the day judged.
    expect(volumeCheck([...usual, { day: "2026-11-25", received: 100 }, { day: "2026-11-26", received: 1 }], "2026-11-26")?.flagged).toBe(
      false,
    );
    expect(volumeCheck([...usual.slice(-2), { day: "2026-11-25", received: 0 }], "2026-11-26")).toBeNull();
  });

  it("given Segment's webhooks for 8 days and the nightly runs, when yesterday brought 20% of its usual volume, then /status and the status page flag it in one line", async () => {
    // Receipts as the raw writer keeps them: 100 webhooks a day for 7 days, then 20.
    const bundles = [];
    for (let d = 8; d >= 1; d--) {
      const at = new Date(today - d * DAY_MS + 12 * 3_600_000).toISOString();
      const count = d === 1 ? 20 : 100;
      const records = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          aRecord({ source: "segment", key: `m-${d}-${i}`, receipt: `msg-${d}-${i}`, receivedAt: at }),
        ),
      );
      bundles.push(aBundle(records, { source: "segment", received_at: at }));
    }
    await writeRaw(bundles);
    // One nightly run a day, as the cron does: each counts the days since the previous one.
    for (let d = 8; d >= 0; d--) {
      const nowMs = today - d * DAY_MS + (3 * 60 + 17) * 60_000;
      const out = await runReconcileStep(
        reconcileEnv(),
        segment,
        { kind: "reconcile", source: "segment" },
        { clock: { now: () => nowMs, sleep: async () => {} } },
      );
      expect(out.status).toBe("not_reconcilable");
    }

    const res = await dispatch(new Request("https://dock.example/status", { headers: { authorization: "Bearer test-admin-token" } }));
    const body = (await res.json()) as {
      reconciliation: { source: string; volume?: { day: string; received: number; median: number; flagged: boolean } | null }[];
    };
    const bySource = new Map(body.reconciliation.map((r) => [r.source, r]));
    expect(bySource.get("segment")?.volume).toMatchObject({ day: dayOf(today - DAY_MS), received: 20, median: 100, flagged: true });
    expect(bySource.get("svix")?.volume ?? null).toBeNull();
    expect(bySource.get("stripe")?.volume).toBeUndefined();

    const page = await dispatch(new Request("https://dock.example/", { headers: { authorization: "Bearer test-admin-token" } }));
    const html = await page.text();
    expect(html).toMatch(
      new RegExp(
        `data-volume="segment"[^>]*>\\s*Low volume: segment received 20 webhooks on ${dayOf(today - DAY_MS)}, 20% of\\s+its 7-day median \\(100\\)`,
      ),
    );
    expect(html.match(/data-volume=/g)).toHaveLength(1);
  });
});
