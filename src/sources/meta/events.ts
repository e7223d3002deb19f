import { arrayElementSpans, propertyArraySpans, propertySpan, type Span } from "../../envelope/json-spans";
import { sha256Hex } from "../../lib/crypto";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, streamName } from "../webhook-helpers";

/** The stream leads are filed under, by webhook and by the lead listing alike. */
export const LEADS_STREAM = "leads";

/**
 * `{object: "page", entry: [{id, time, changes|messaging: […]}, …]}`: one record per entry, spliced
 * verbatim, under the stream of `object` (`page` → `page`, `whatsapp_business_account` → same).
 * Meta gives no event id; an entry's identity is its id plus a hash of its exact bytes (id, time,
 * field and value all inside), which a retry repeats byte for byte.
 *
 * A `leadgen` change (`value: {leadgen_id, form_id, page_id, created_time, …}`) is about one lead:
 * it is filed under `leads`, keyed by `leadgen_id` — where the lead listing files the lead — so
 * the lead's high-water mark is fed and reconciliation can tell which leads arrived. Its version
 * is `leadgen:<created_time>:<hash of the change's bytes>`. An entry made only of leadgen changes
 * is kept as those lead records; an entry with other changes too is also kept whole, as before.
 */
export async function metaWebhookRecords(input: WebhookInput): Promise<WebhookRecord[]> {
  const object = fieldText(input.text, "object");
  if (!object) throw new Error("no object in the notification");
  const stream = streamName(object, false);
  const records: WebhookRecord[] = [];
  for (const [i, span] of propertyArraySpans(input.text, "entry").entries()) {
    if (input.text[span[0]] !== "{") throw new Error(`entry ${i} is not an object`);
    const id = fieldText(input.text, "id", span);
    if (!id) throw new Error(`entry ${i} has no id`);
    const leads = await leadRecords(input.text, span, i);
    if (leads.length === 0 || leads.length < arrayElementSpansOf(input.text, "changes", span).length) {
      const version = (await sha256Hex(input.text.slice(span[0], span[1]))).slice(0, 32);
      records.push({ stream, key: id, version, op: "event", eventId: `${id}:${version}`, span });
    }
    records.push(...leads);
  }
  return records;
}

async function leadRecords(text: string, entry: Span, i: number): Promise<WebhookRecord[]> {
  const out: WebhookRecord[] = [];
  for (const [j, change] of arrayElementSpansOf(text, "changes", entry).entries()) {
    if (text[change[0]] !== "{" || fieldText(text, "field", change) !== "leadgen") continue;
    const value = propertySpan(text, "value", change[0]);
    const leadgenId = value && text[value[0]] === "{" ? fieldText(text, "leadgen_id", value) : null;
    const created = value && text[value[0]] === "{" ? fieldText(text, "created_time", value) : null;
    if (!leadgenId || !/^\d{1,20}$/.test(leadgenId)) throw new Error(`entry ${i} change ${j}: a leadgen change without a leadgen_id`);
    if (!created || !/^\d{1,11}$/.test(created))
      throw new Error(`entry ${i} change ${j}: a leadgen change without created_time (unix seconds)`);
    const version = `leadgen:${created}:${(await sha256Hex(text.slice(change[0], change[1]))).slice(0, 32)}`;
    out.push({ stream: LEADS_STREAM, key: leadgenId, version, op: "event", eventId: `${leadgenId}:${version}`, span: change });
  }
  return out;
}

/** The elements of the array property `name` of the object at `span` (none when absent). */
function arrayElementSpansOf(text: string, name: string, span: Span): Span[] {
  const at = propertySpan(text, name, span[0]);
  return at && text[at[0]] === "[" ? arrayElementSpans(text, at[0]) : [];
}
