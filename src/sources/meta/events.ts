import { propertyArraySpans } from "../../envelope/json-spans";
import { sha256Hex } from "../../lib/crypto";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, streamName } from "../webhook-helpers";

/**
 * `{object: "page", entry: [{id, time, changes|messaging: […]}, …]}`: one record per entry, spliced
 * verbatim, under the stream of `object` (`page` → `page`, `whatsapp_business_account` → same).
 * Meta gives no event id; an entry's identity is its id plus a hash of its exact bytes (id, time,
 * field and value all inside), which a retry repeats byte for byte.
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
    const version = (await sha256Hex(input.text.slice(span[0], span[1]))).slice(0, 32);
    records.push({ stream, key: id, version, op: "event", eventId: `${id}:${version}`, span });
  }
  return records;
}
