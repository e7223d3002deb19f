import { vendorPart } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { UNLISTED_STREAM } from "./events";
import { DEFAULT_EXPORT, EXPORT_STREAM, exportStream } from "./export-stream";

/**
 * The Export stream as a listing: the poll's definition (same name, key, version, so the same
 * `_dock.id`) in smaller steps. A listing keeps a step's records in memory to compare them (a poll
 * streams them to INGEST 500 at a time), so a step reads at most 20,000 lines, and a range is at
 * most 6 hours: a step that stops inside a range re-opens it and skips what it already read, which
 * costs less the shorter the range.
 */
const listingStream = exportStream({ ...DEFAULT_EXPORT, maxHoursPerRequest: 6, maxLinesPerStep: 20_000 });

/** `server_upload_time`: `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC without a zone (the Export API's format). */
const UPLOAD_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** A line kept raw is keyed `<file>#<line>`; the export names files `<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz`. */
const RAW_LINE_KEY = /_(\d{4})-(\d{2})-(\d{2})_(\d{1,2})#\d+\.json(?:\.gz)?#\d+$/;

/**
 * The time (epoch ms, microseconds cut) an `export_events` version stands for: exported, reconciled
 * and webhook events alike are versioned `<server_upload_time>|<digest>`. A line the export could
 * not parse (kept raw, keyed by file and line, versioned by its digest) stands for its file's upload
 * hour, so a listing compares it like an event instead of failing on it. Anything else holds
 * nothing: null.
 */
export function amplitudeVersionTime(version: string, key = ""): number | null {
  const m = UPLOAD_TIME.exec(vendorPart(version));
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, Math.floor(Number(`0.${m[7] ?? "0"}`) * 1000));
  const raw = /^[0-9a-f]{32}$/.test(version) ? RAW_LINE_KEY.exec(key) : null;
  if (!raw || +raw[4]! > 23) return null;
  return Date.UTC(+raw[1]!, +raw[2]! - 1, +raw[3]!, +raw[4]!);
}

/**
 * Record level, events by upload hour: the Export API (`GET /api/2/export?start=&end=`, a ZIP of
 * gzipped JSON lines by `server_upload_time` hour) is the `export_events` poll stream, read as a
 * stepped listing from the window's first hour up to the last complete one, in ranges of up to 6 hours. Events never
 * change: a listed event is held exactly when its `uuid` was written under `export_events` — by a
 * webhook whose payload template carries `uuid` and `server_upload_time`, by the hourly poll, or
 * by an earlier reconciliation. Webhook events without them land under `events` and cannot be
 * compared: the volume guard watches that stream (`unlistedWebhooks`).
 */
export const amplitudeReconcile: RecordListing = {
  // Amplitude documents no limit on how far back the export reaches; 90 days asked at most.
  historyDays: 90,
  // Export data lands about 2 h after its upload hour ends (AMPLITUDE_EXPORT_LAG_HOURS), so an hour
  // is listed only once it is complete: a window ends at least 4 h ago, or its last hours would be
  // unlisted when the watermark moved past them.
  settleSeconds: 4 * 3600,
  overlapSeconds: 60 * 60,
  listings: [listingStream],
  objects: { streams: [EXPORT_STREAM], versionTime: amplitudeVersionTime },
  unlistedWebhooks: `webhook events without uuid and server_upload_time (stream ${UNLISTED_STREAM})`,
};
