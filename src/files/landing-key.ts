import { landedKey } from "./names";

/** Another landing holds the key: nothing was written, the upload can be sent again. */
export class KeyTaken extends Error {}

/** Where one landing writes, and the condition its put carries so it can only write there if the key is still its own. */
export interface LandingKey {
  key: string;
  onlyIf: R2Conditional;
  /** Set when the key holds our placeholder until the bytes replace it. */
  marker?: string;
}

/**
 * Reserves the key a file lands under, so two uploads of one name never write the same key.
 *
 * The first landing of a name on a day gets `files/source=<s>/<date>/<name>`: it claims the key by
 * creating a small placeholder there with a create-only put (`etagDoesNotMatch: "*"`, atomic in R2),
 * and its bytes then replace only that placeholder (`etagMatches` its etag). Whoever loses the claim
 * — the name already landed that day, or another upload of it is in flight — goes to
 * `<date>/v=<yyyymmddThhmmssZ>-<8 hex>/<name>`, written create-only as well. The claim is taken
 * before the body is read because a put consumes its stream: a conditional put that loses after
 * streaming would have nothing left to write elsewhere.
 */
export async function reserveLandingKey(
  bucket: R2Bucket,
  source: string,
  name: string,
  now: Date,
  meta: Record<string, string>,
): Promise<LandingKey> {
  const plain = landedKey(source, now, name);
  const marker = crypto.randomUUID();
  const claimed = await bucket.put(plain, `landing ${marker}\n`, {
    onlyIf: { etagDoesNotMatch: "*" },
    customMetadata: { ...meta, landing: marker },
  });
  if (claimed) return { key: plain, onlyIf: { etagMatches: claimed.etag }, marker };
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const key = landedKey(source, now, name, `v=${stamp}-${crypto.randomUUID().slice(0, 8)}`);
  return { key, onlyIf: { etagDoesNotMatch: "*" } };
}

/** After a put that did not complete: removes our placeholder, if it is still ours (nobody else writes a claimed key). */
export async function releaseLandingKey(bucket: R2Bucket, reserved: LandingKey): Promise<void> {
  if (!reserved.marker) return;
  const object = await bucket.head(reserved.key);
  if (object?.customMetadata?.landing === reserved.marker) await bucket.delete(reserved.key);
}
