import { sha256Hex } from "../lib/crypto";

/**
 * A polled record's `_dock.version`. A vendor's version field (an updated-at time of one-second
 * resolution, a cursor value that several edits share) can be the same for two different states,
 * and two states under one version share a `_dock.id`: dedupe would keep the first and drop the
 * second. So the version is the vendor's value plus a digest of the record's bytes
 * (`<value>|<16 hex digits of sha256>`): the same bytes keep the same id, so overlapping polls still
 * dedupe, and different bytes never share one. Without a vendor value the digest alone is the
 * version (32 hex digits).
 *
 * `unique`: the stream's version is an id the vendor never gives to other content (an immutable
 * event's id). It is kept as it is, so the record has the id its webhook and reconciliation give it.
 */
export async function recordVersion(vendorVersion: string | undefined, text: string, unique = false): Promise<string> {
  if (vendorVersion && unique) return vendorVersion;
  const digest = await sha256Hex(text);
  return vendorVersion ? `${vendorVersion}|${digest.slice(0, 16)}` : digest.slice(0, 32);
}
