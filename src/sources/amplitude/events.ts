import { arrayElementSpans, type Span } from "../../envelope/json-spans";
import { sha256Hex } from "../../lib/crypto";
import { log } from "../../lib/log";
import { recordVersion } from "../../pollers/record-version";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText } from "../webhook-helpers";
import { EXPORT_STREAM } from "./export-stream";

/** Where webhook events without `uuid` and `server_upload_time` land: not comparable with the export. */
export const UNLISTED_STREAM = "events";

/** `server_upload_time` as Amplitude writes it: `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC. */
const UPLOAD_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/**
 * Amplitude's event-streaming webhook posts one event (or an array, with a batching template).
 *
 * An event whose payload carries `uuid` and `server_upload_time` (the template forwards the export
 * event format as it is, or adds both) is filed where the Export API files it: stream
 * `export_events`, keyed by `uuid`, version `<server_upload_time>|<digest of its bytes>` — the
 * version the export poll gives, by the same function — so reconciliation can tell which exported
 * events arrived. Identical bytes give the poll's `_dock.id`; a template's different bytes give
 * another id for the same key (the guide's rule: different bytes never share an id).
 *
 * Without them (a template that drops them, or writes the time in another format), the event keeps its old filing: stream `events`,
 * keyed by `insert_id` / `$insert_id` / `uuid`, else the hash of its bytes. Those events cannot be
 * compared with the export; the volume guard watches them (`unlistedWebhooks` in reconcile.ts).
 */
export async function amplitudeWebhookRecords(input: WebhookInput): Promise<WebhookRecord[]> {
  const spans: (Span | undefined)[] = Array.isArray(input.json) ? arrayElementSpans(input.text) : [undefined];
  const records: WebhookRecord[] = [];
  let unlisted = 0;
  for (const [i, span] of spans.entries()) {
    const start = span?.[0] ?? input.text.search(/\S/);
    if (input.text[start] !== "{") throw new Error(`event ${i} is not an object`);
    const bytes = span ? input.text.slice(span[0], span[1]) : input.text.slice(start).trimEnd();
    const uuid = fieldText(input.text, "uuid", span);
    const uploaded = fieldText(input.text, "server_upload_time", span);
    if (uuid && uploaded !== null && UPLOAD_TIME.test(uploaded)) {
      const version = await recordVersion(uploaded, bytes);
      records.push({ stream: EXPORT_STREAM, key: uuid, version, op: "event", eventId: uuid, ...(span ? { span } : {}) });
      continue;
    }
    unlisted++;
    const id =
      fieldText(input.text, "insert_id", span) ??
      fieldText(input.text, "$insert_id", span) ??
      uuid ??
      (await sha256Hex(bytes)).slice(0, 32);
    records.push({ stream: UNLISTED_STREAM, key: id, version: id, op: "event", eventId: id, ...(span ? { span } : {}) });
  }
  if (unlisted > 0) {
    log("warn", {
      event: "webhook.unreconcilable_records",
      source: "amplitude",
      pattern: "webhook",
      records: unlisted,
      error: `${unlisted} event(s) without uuid and server_upload_time (YYYY-MM-DD HH:MM:SS.ffffff): filed under ${UNLISTED_STREAM}, not comparable with the Export API (add both to the payload template)`,
    });
  }
  return records;
}
