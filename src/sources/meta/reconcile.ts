import { isoVersionTime } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { LEADS_STREAM } from "./events";
import { LEAD_FORMS } from "./graph";
import { metaLeadsStream } from "./leads";

/**
 * The time a version of a lead stands for (epoch ms):
 * - polled or reconciled: `<created_time>|<digest>` (Graph's ISO `2026-12-06T03:00:00+0000`);
 * - a leadgen webhook change: `leadgen:<created_time unix s>:<hash>`.
 * A lead is never edited after it is submitted, so both name the one state it has: a lead whose
 * webhook arrived is held; one whose webhook was lost is recovered from the listing. Keys that
 * are not lead ids hold nothing.
 */
export function metaVersionTime(version: string, key: string): number | null {
  if (!/^\d{1,20}$/.test(key)) return null;
  const webhook = /^leadgen:(\d{1,11}):[0-9a-f]{32}$/.exec(version);
  if (webhook) return Number(webhook[1]) * 1000;
  return isoVersionTime(version);
}

/**
 * Record level, leads only: Graph lists a lead form's leads (`GET /{form-id}/leads`, Meta keeps
 * them 90 days) but nothing else a Page webhook names can be listed by time — feed posts and
 * comments, Page field changes (`name`, `picture`…), messaging and Instagram/WhatsApp
 * notifications are not listed as changes anywhere; they keep the volume guard (`unlistedWebhooks`:
 * their webhooks per day against their own median, src/reconcile/unlisted-volume.ts). The forms come from
 * META_LEAD_FORM_IDS. Graph documents no order for a form's leads, so each window asks every form for
 * the leads created since its start, reads to the last page and keeps those created in it
 * (see docs/reconciliation.md).
 */
export const metaReconcile: RecordListing = {
  historyDays: 90,
  // Meta retries a failed delivery with decreasing frequency for up to 36 hours.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  config: [LEAD_FORMS],
  listings: [metaLeadsStream],
  objects: { streams: [LEADS_STREAM], versionTime: metaVersionTime },
  unlistedWebhooks:
    "every notification but leadgen: feed (posts, comments, reactions), Page field changes, mention, messaging, Instagram and WhatsApp Business changes",
};
