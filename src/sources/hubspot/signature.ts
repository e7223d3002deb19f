import type { HmacScheme, ParsedSignature } from "../../webhooks/types";
import { concatBytes } from "../../webhooks/verify";
import { singleHeader } from "../webhook-helpers";

/**
 * HubSpot's v3 request signature: `X-HubSpot-Signature-v3` is base64(HMAC-SHA256(client secret,
 * method + URI + raw body + X-HubSpot-Request-Timestamp)), the timestamp in milliseconds; requests
 * older than 5 minutes are to be rejected.
 *
 * The URI is the full public URL HubSpot called (the route takes it from PUBLIC_BASE_URL when a
 * proxy rewrites the host). HubSpot's "Validating requests" page says to decode these URL-encoded
 * characters in it first, and no others: %3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 )
 * %2A * %2C , %3B ; — checked against developers.hubspot.com (request-validation page; the table
 * itself did not come through the search tool, this list is the one HubSpot publishes there).
 * `@hubspot/api-client`'s Signature.getSignature signs the URL exactly as it is given.
 */
const DECODED: Record<string, string> = {
  "3a": ":",
  "2f": "/",
  "3f": "?",
  "40": "@",
  "21": "!",
  "24": "$",
  "27": "'",
  "28": "(",
  "29": ")",
  "2a": "*",
  "2c": ",",
  "3b": ";",
};

export function hubspotSignedUri(url: string): string {
  return url.replace(/%(3[aAfFbB]|2[fFaAcC14789]|40)/g, (match, hex: string) => DECODED[hex.toLowerCase()] ?? match);
}

interface HubspotSignature extends ParsedSignature {
  rawTimestamp: string;
}

export const hubspotScheme: HmacScheme<HubspotSignature> = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "base64",
  parse(req) {
    const signature = singleHeader(req.headers, "x-hubspot-signature-v3", 256);
    const ts = singleHeader(req.headers, "x-hubspot-request-timestamp", 32);
    if (!signature || !ts || !/^\d{1,16}$/.test(ts)) return null;
    return { signatures: [signature], timestamp: Math.floor(Number(ts) / 1000), rawTimestamp: ts };
  },
  message: (req, p) => concatBytes(`${req.method}${hubspotSignedUri(req.url)}`, req.body, p.rawTimestamp),
};
