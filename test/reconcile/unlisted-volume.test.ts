import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unlistedVolume } from "../../src/reconcile/unlisted-volume";
import { dispatch } from "../helpers/dispatch";
import { aBundle, aRecord } from "../helpers/fixtures";
import { writeRaw } from "./helpers";

const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `count` webhook records of a source's stream received at noon `daysAgo` days back, through the raw writer. */
async function webhooks(source: string, stream: string, daysAgo: number, count: number) {
  const at = new Date(today - daysAgo * DAY_MS + 12 * 3_600_000).toISOString();
  const records = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      aRecord({ source, stream, key: `${stream}-${daysAgo}-${i}`, receipt: `${stream}-${daysAgo}-${i}`, receivedAt: at }),
    ),
  );
  return aBundle(records, { source, stream, received_at: at });
}

describe("volume guard for the webhooks of a reconcilable source that no listing covers", () => {
  it("given Meta's non-lead notifications at 20% of their usual day while its listed leads came as usual (or more), and Amplitude's unlisted events on a normal day, then /status flags Meta's unlisted webhooks only, and the status page says so in one line", async () => {
    const bundles = [];
    for (let d = 8; d >= 1; d--) {
      bundles.push(await webhooks("meta", "page", d, d === 1 ? 12 : 100));
      bundles.push(await webhooks("meta", "instagram", d, 10));
      // Leads are listed (reconciled by record), so their count must not hide the drop: 4x on the low day.
      bundles.push(await webhooks("meta", "leads", d, d === 1 ? 400 : 100));
      bundles.push(await webhooks("amplitude", "events", d, d === 1 ? 95 : 100));
    }
    // What a poll or a reconciliation wrote is not a webhook: it does not count.
    bundles.push({ ...(await webhooks("meta", "page", 1, 300)), pattern: "reconcile" as const });
    await writeRaw(bundles);

    const res = await dispatch(new Request("https://dock.example/status", { headers: { authorization: "Bearer test-admin-token" } }));
    const body = (await res.json()) as {
      reconciliation: {
        source: string;
        reconcilable: boolean;
        unlisted?: { what: string; volume: { day: string; received: number; median: number; flagged: boolean } | null };
      }[];
    };
    const bySource = new Map(body.reconciliation.map((r) => [r.source, r]));
    expect(bySource.get("meta")).toMatchObject({
      reconcilable: true,
      unlisted: { volume: { day: dayOf(today - DAY_MS), received: 22, median: 110, flagged: true } },
    });
    expect(bySource.get("meta")?.unlisted?.what).toMatch(/feed .*messaging.*Instagram/);
    expect(bySource.get("amplitude")?.unlisted?.volume).toMatchObject({ received: 95, median: 100, flagged: false });
    // Sources whose webhooks are all listed have no unlisted part.
    expect(bySource.get("hubspot")?.unlisted).toBeUndefined();

    const page = await dispatch(new Request("https://dock.example/", { headers: { authorization: "Bearer test-admin-token" } }));
    const html = await page.text();
    expect(html).toMatch(
      new RegExp(
        `data-volume="meta"[^>]*>\\s*Low volume: meta received 22 unlisted webhooks on ${dayOf(today - DAY_MS)},\\s*20% of\\s+their 7-day median \\(110\\)`,
      ),
    );
    expect(html).not.toMatch(/data-volume="amplitude"/);
  });

  it("given a source whose unlisted webhooks stopped altogether yesterday, then the day counts as 0 and is flagged", async () => {
    const bundles = [];
    for (let d = 8; d >= 2; d--) bundles.push(await webhooks("meta_stopped", "page", d, 50));
    for (let d = 8; d >= 1; d--) bundles.push(await webhooks("meta_stopped", "leads", d, 50));
    await writeRaw(bundles);
    const check = await unlistedVolume(env.DB, "meta_stopped", ["leads"], "feed", new Date());
    expect(check.volume).toMatchObject({ day: dayOf(today - DAY_MS), received: 0, median: 50, flagged: true });
  });
});
