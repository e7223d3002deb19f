import type { SourceDefinition } from "./define-source";
import { hmacSource } from "./hmac/define-hmac-source";
import { stripe } from "./stripe";
import { svix } from "./svix";
import { github } from "./github";
import { hubspot } from "./hubspot";
import { shopify } from "./shopify";
import { zendesk } from "./zendesk";
import { intercom } from "./intercom";
import { segment } from "./segment";
import { klaviyo } from "./klaviyo";
import { meta } from "./meta";
import { salesforce } from "./salesforce";
import { amplitude } from "./amplitude";
import { demo } from "./demo";
import { googleAds } from "./google_ads";
import { metaAds } from "./meta_ads";

/** Every source Loading Dock knows. Adding a source is a folder plus two lines here (its import and its entry). */
export const sources: readonly SourceDefinition[] = [
  stripe,
  svix,
  github,
  hubspot,
  shopify,
  zendesk,
  intercom,
  segment,
  klaviyo,
  meta,
  salesforce,
  amplitude,
  demo,
  googleAds,
  metaAds,
  // A one-off sender, configured as data: the example for internal and partner APIs.
  hmacSource({
    name: "acme",
    title: "Acme partner API (generic HMAC example)",
    header: "X-Acme-Signature",
    hash: "SHA-256",
    encoding: "hex",
    prefix: "sha256=",
    signed: "timestamp.body",
    timestampHeader: "X-Acme-Timestamp",
    idHeader: "X-Acme-Delivery",
    idField: "id",
    stream: "events",
  }),
];

const byName = new Map(sources.map((s) => [s.name, s]));
if (byName.size !== sources.length) throw new Error("two sources share a name");

export function findSource(name: string): SourceDefinition | undefined {
  return byName.get(name);
}
