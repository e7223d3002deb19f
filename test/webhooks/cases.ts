import { sign } from "@octokit/webhooks-methods";
import { Signature } from "@hubspot/api-client/lib/src/utils/signature";
import { Webhook } from "standardwebhooks";
import { hmacText, type WebhookCase } from "./support";

/**
 * How each webhook source's vendor signs and what it sends: one `WebhookCase` per source, with
 * fixture builders shaped like the vendor's documented payloads. The official npm signers are used
 * where they exist (standardwebhooks, @octokit/webhooks-methods, @hubspot/api-client); the others
 * follow the vendor's documented recipe, and each source's test pins a node:crypto vector for it.
 */

// ---- svix ----
export const SVIX_SECRET = "whsec_c3ZpeC10ZXN0LXNlY3JldC0zMi1ieXRlcy1sb25nISE=";

/** A Standard Webhooks message, as Svix documents its payloads: `{type, timestamp, data}`. */
export function anInvoicePaid(marker: string) {
  return JSON.stringify({
    type: "invoice.paid",
    timestamp: "2026-11-25T07:00:00Z",
    data: { id: `inv_${marker}`, amount: 1 },
  }).replace('"amount":1', '"amount":9007199254740993');
}

// Signed by the official `standardwebhooks` package; the message id doubles as the marker's home.
export const svix: WebhookCase = {
  source: "svix",
  secret: SVIX_SECRET,
  previous: "whsec_c3ZpeC1wcmV2aW91cy1zZWNyZXQtMzItYnl0ZXMhIQ==",
  wrong: "whsec_d3Jvbmctc3ZpeC1zZWNyZXQtMzItYnl0ZXMtISE=",
  body: anInvoicePaid,
  records: 1,
  sign(body, { secret, nowSeconds }) {
    const id = `msg_${/"id":"([^"]+)"/.exec(body)?.[1] ?? "unparseable"}`;
    const signature = new Webhook(secret).sign(id, new Date(nowSeconds * 1000), body);
    return { headers: { "webhook-id": id, "webhook-timestamp": String(nowSeconds), "webhook-signature": signature } };
  },
  signature: { header: "webhook-signature", prefix: "v1,", encoding: "base64" },
  timestampSigned: true,
  required: ["webhook-id", "webhook-timestamp", "webhook-signature"],
  single: ["webhook-id", "webhook-timestamp", "webhook-signature"],
};

// ---- github ----
/** An `issues` event payload, shaped like GitHub's documented webhook payload. */
export function anIssueOpened(marker: string) {
  return JSON.stringify(
    {
      action: "opened",
      issue: { id: 1, number: 7, title: `Broken ${marker}` },
      repository: { id: 2, full_name: "acme/dock" },
      sender: { login: "octocat" },
    },
    null,
    2,
  );
}

export const delivery = (body: string) => `guid-${/Broken (\w+)/.exec(body)?.[1] ?? "x"}`;

// Signed by GitHub's own `@octokit/webhooks-methods`.
export const github: WebhookCase = {
  source: "github",
  secret: "github-test-secret",
  previous: "github-previous-secret",
  wrong: "github-wrong-secret",
  body: anIssueOpened,
  records: 1,
  async sign(body, { secret }) {
    return {
      headers: { "x-hub-signature-256": await sign(secret, body), "x-github-event": "issues", "x-github-delivery": delivery(body) },
    };
  },
  signature: { header: "x-hub-signature-256", prefix: "sha256=", encoding: "hex" },
  timestampSigned: false,
  required: ["x-hub-signature-256"],
  single: ["x-hub-signature-256"],
};

// ---- hubspot ----
export const URL_CALLED = "https://dock.example/webhooks/hubspot";

/** Two events as HubSpot posts them (a JSON array); objectId above 2^53 is written as text on purpose. */
export function twoContactEvents(marker: string) {
  const n = Number.parseInt(marker.replace(/[^0-9a-z]/g, "").slice(-8), 36) % 1_000_000_000;
  return `[{"eventId":${n},"subscriptionId":12345,"portalId":62515,"appId":54321,"occurredAt":1764054000000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":9007199254740993,"propertyName":"firstname","propertyValue":"${marker}","changeSource":"CRM"},
{"eventId":${n + 1},"subscriptionId":12346,"portalId":62515,"appId":54321,"occurredAt":1764054000001,"subscriptionType":"deal.deletion","attemptNumber":0,"objectId":42,"changeSource":"CRM","note":"${marker}"}]`;
}

// Signed by HubSpot's own `@hubspot/api-client` (Signature.getSignature, v3; `signature` is only read by isValid).
export const hubspot: WebhookCase = {
  source: "hubspot",
  secret: "hubspot-client-secret-test",
  previous: "hubspot-client-secret-previous",
  wrong: "hubspot-client-secret-wrong",
  body: twoContactEvents,
  records: 2,
  sign(body, { secret, nowSeconds }) {
    const timestamp = nowSeconds * 1000 + 123;
    const signature = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: secret,
      requestBody: body,
      url: URL_CALLED,
      timestamp,
    });
    return {
      headers: {
        "x-hubspot-signature-v3": signature,
        "x-hubspot-request-timestamp": String(timestamp),
        "x-hubspot-signature-version": "v3",
      },
    };
  },
  signature: { header: "x-hubspot-signature-v3", prefix: "", encoding: "base64" },
  timestampSigned: true,
  required: ["x-hubspot-signature-v3", "x-hubspot-request-timestamp"],
  single: ["x-hubspot-signature-v3", "x-hubspot-request-timestamp"],
};

// ---- shopify ----
/** An orders/create payload as Shopify sends it: 64-bit ids as JSON numbers. */
export function anOrder(marker: string) {
  return `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","email":"${marker}@example.com","total_price":"199.00"}`;
}

// No official signer: Shopify's documented recipe, base64(HMAC-SHA256(app secret, raw body)).
export const shopify: WebhookCase = {
  source: "shopify",
  secret: "shopify-app-secret-test",
  previous: "shopify-app-secret-previous",
  wrong: "shopify-app-secret-wrong",
  body: anOrder,
  records: 1,
  async sign(body, { secret }) {
    const marker = /"email":"(\w+)@/.exec(body)?.[1] ?? "x";
    return {
      headers: {
        "x-shopify-hmac-sha256": await hmacText("SHA-256", secret, body, "base64"),
        "x-shopify-topic": "orders/create",
        "x-shopify-event-id": `evt-${marker}`,
        "x-shopify-webhook-id": `wh-${marker}`,
        "x-shopify-shop-domain": "acme.myshopify.com",
      },
    };
  },
  signature: { header: "x-shopify-hmac-sha256", prefix: "", encoding: "base64" },
  timestampSigned: false,
  required: ["x-shopify-hmac-sha256"],
  single: ["x-shopify-hmac-sha256"],
};

// ---- zendesk ----
/** A Zendesk event-subscription body (`zen:event-type:…`), shaped like Zendesk's documented envelope. */
export function aUserCreated(marker: string) {
  return JSON.stringify({
    account_id: 22129848,
    detail: { id: "7263215873052", email: `${marker}@example.com` },
    event: {},
    id: `evt-${marker}`,
    subject: "zen:user:7263215873052",
    time: "2026-11-25T07:00:00Z",
    type: "zen:event-type:user.created",
    zendesk_event_version: "2022-11-06",
  });
}

// No official signer: Zendesk's recipe, base64(HMAC-SHA256(signing secret, TIMESTAMP + BODY)).
export const zendesk: WebhookCase = {
  source: "zendesk",
  secret: "zendesk-signing-secret-test",
  previous: "zendesk-signing-secret-previous",
  wrong: "zendesk-signing-secret-wrong",
  body: aUserCreated,
  records: 1,
  async sign(body, { secret, nowSeconds }) {
    const ts = new Date(nowSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      headers: {
        "x-zendesk-webhook-signature": await hmacText("SHA-256", secret, ts + body, "base64"),
        "x-zendesk-webhook-signature-timestamp": ts,
        "x-zendesk-webhook-id": "01GXYZ",
        "x-zendesk-webhook-invocation-id": "8350205582",
      },
    };
  },
  signature: { header: "x-zendesk-webhook-signature", prefix: "", encoding: "base64" },
  timestampSigned: true,
  required: ["x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp"],
  single: ["x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp"],
};

// ---- intercom ----
/** A notification_event as Intercom documents it. */
export function aContactCreated(marker: string) {
  return JSON.stringify({
    type: "notification_event",
    app_id: "abc123",
    data: { type: "notification_event_data", item: { type: "contact", id: `ct_${marker}`, email: "a@example.com" } },
    id: `notif_${marker}`,
    topic: "contact.user.created",
    delivery_attempts: 1,
    first_sent_at: 1764054000,
    created_at: 1764054000,
  });
}

// No official signer: Intercom's recipe, `X-Hub-Signature: sha1=` hex(HMAC-SHA1(client secret, body)).
export const intercom: WebhookCase = {
  source: "intercom",
  secret: "intercom-client-secret-test",
  previous: "intercom-client-secret-previous",
  wrong: "intercom-client-secret-wrong",
  body: aContactCreated,
  records: 1,
  async sign(body, { secret }) {
    return { headers: { "x-hub-signature": `sha1=${await hmacText("SHA-1", secret, body, "hex")}` } };
  },
  signature: { header: "x-hub-signature", prefix: "sha1=", encoding: "hex" },
  timestampSigned: false,
  required: ["x-hub-signature"],
  single: ["x-hub-signature"],
};

// ---- segment ----
/** A track call as Segment's Webhooks destination forwards it (Segment Spec common fields). */
export function aTrack(marker: string) {
  return JSON.stringify({
    type: "track",
    event: "Order Completed",
    messageId: `ajs-${marker}`,
    userId: "u_1",
    properties: { revenue: 19.99 },
    context: { library: { name: "analytics.js" } },
    timestamp: "2026-11-25T07:00:00.000Z",
    sentAt: "2026-11-25T07:00:00.100Z",
  });
}

// No official signer: Segment's recipe, `X-Signature` = hex(HMAC-SHA1(shared secret, body)).
export const segment: WebhookCase = {
  source: "segment",
  secret: "segment-shared-secret-test",
  previous: "segment-shared-secret-previous",
  wrong: "segment-shared-secret-wrong",
  body: aTrack,
  records: 1,
  async sign(body, { secret }) {
    return { headers: { "x-signature": await hmacText("SHA-1", secret, body, "hex") } };
  },
  signature: { header: "x-signature", prefix: "", encoding: "hex" },
  timestampSigned: false,
  required: ["x-signature"],
  single: ["x-signature"],
};

// ---- klaviyo ----
export const WEBHOOK_ID = "01HZWEBHOOK";

/** A system-webhook body as Klaviyo documents it: `data[]` of events plus `meta`. */
export function twoEvents(marker: string) {
  const item = (n: number) =>
    `{"topic":"event:klaviyo.email_delivered","external_id":"ev_${marker}_${n}","payload":{"type":"event","id":"ev_${marker}_${n}","attributes":{"datetime":"2026-11-25T07:00:0${n}+00:00"}}}`;
  return `{"data":[${item(1)},${item(2)}],"meta":{"klaviyo_account_id":"AbC123","klaviyo_webhook_id":"${WEBHOOK_ID}","timestamp":"2026-11-25T07:00:05+00:00"}}`;
}

// No official signer: hex(HMAC-SHA256(secret, body + Klaviyo-Timestamp)) (see the scheme's comment).
export const klaviyo: WebhookCase = {
  source: "klaviyo",
  secret: "klaviyo-webhook-secret-test",
  previous: "klaviyo-webhook-secret-previous",
  wrong: "klaviyo-webhook-secret-wrong",
  body: twoEvents,
  records: 2,
  async sign(body, { secret, nowSeconds }) {
    const ts = new Date(nowSeconds * 1000).toISOString();
    return {
      headers: {
        "klaviyo-signature": await hmacText("SHA-256", secret, body + ts, "hex"),
        "klaviyo-timestamp": ts,
        "klaviyo-webhook-id": WEBHOOK_ID,
      },
    };
  },
  signature: { header: "klaviyo-signature", prefix: "", encoding: "hex" },
  timestampSigned: true,
  required: ["klaviyo-signature", "klaviyo-timestamp"],
  single: ["klaviyo-signature", "klaviyo-timestamp"],
};

// ---- meta ----
/** A Page notification with two entries, shaped like Meta's Graph API webhook payloads. */
export function twoEntries(marker: string) {
  return JSON.stringify({
    object: "page",
    entry: [
      {
        id: "102030405060708",
        time: 1764054000,
        changes: [{ field: "feed", value: { item: "post", verb: "add", message: `${marker} one` } }],
      },
      {
        id: "102030405060709",
        time: 1764054001,
        changes: [{ field: "feed", value: { item: "comment", verb: "add", message: `${marker} two` } }],
      },
    ],
  });
}

// No official signer: Meta's recipe, `X-Hub-Signature-256: sha256=` hex(HMAC-SHA256(app secret, body)).
export const meta: WebhookCase = {
  source: "meta",
  secret: "meta-app-secret-test",
  previous: "meta-app-secret-previous",
  wrong: "meta-app-secret-wrong",
  body: twoEntries,
  records: 2,
  async sign(body, { secret }) {
    return { headers: { "x-hub-signature-256": `sha256=${await hmacText("SHA-256", secret, body, "hex")}` } };
  },
  signature: { header: "x-hub-signature-256", prefix: "sha256=", encoding: "hex" },
  timestampSigned: false,
  required: ["x-hub-signature-256"],
  single: ["x-hub-signature-256"],
};

// ---- salesforce ----
export const ORG = "00D000000000062EAA";

/** An 18-character Salesforce id that is unique per marker. */
export const sfId = (prefix: string, marker: string) =>
  `${prefix}${marker
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(-12)
    .padStart(12, "0")}`.padEnd(18, "A");

/** An outbound message with two notifications, shaped like Salesforce's documented SOAP envelope. */
export function anOutboundMessage(marker: string, org = ORG) {
  const notification = (n: number) => `
   <Notification>
    <Id>${sfId(`04l${n}`, marker)}</Id>
    <sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>${sfId(`001${n}`, marker)}</sf:Id>
     <sf:Name>Acme &amp; Sons ${marker} ${n}</sf:Name>
     <sf:AnnualRevenue>9007199254740993</sf:AnnualRevenue>
    </sObject>
   </Notification>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${org}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId>00D000000000062!AQ4AQLive.Session.Token</SessionId>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/60.0/00D000000000062</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/60.0/00D000000000062</PartnerUrl>${notification(1)}${notification(2)}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

// No signature exists: the token in the URL (constant-time) plus the configured OrganizationId.
export const salesforce: WebhookCase = {
  source: "salesforce",
  secret: "salesforce-url-token-test",
  previous: "salesforce-url-token-previous",
  wrong: "salesforce-url-token-wrong",
  contentType: "text/xml; charset=utf-8",
  body: anOutboundMessage,
  records: 2,
  sign: (_body, { secret }) => ({ query: `?token=${encodeURIComponent(secret)}`, headers: { soapaction: '""' } }),
  timestampSigned: false,
  required: [],
  single: [],
};

// ---- amplitude ----
/** An event as Amplitude's event-streaming webhook sends it with the default template. */
export function anEvent(marker: string) {
  return JSON.stringify({
    event_type: "Purchase",
    user_id: "u_1",
    insert_id: `ins-${marker}`,
    uuid: "1b7a8c5e-0000-4000-8000-000000000000",
    event_time: "2026-11-25 07:00:00.000000",
    event_properties: { sku: marker },
  });
}

// No signature: the shared secret in the X-Webhook-Secret header configured in Amplitude.
export const amplitude: WebhookCase = {
  source: "amplitude",
  secret: "amplitude-header-secret-test",
  previous: "amplitude-header-secret-previous",
  wrong: "amplitude-header-secret-wrong",
  body: anEvent,
  records: 1,
  sign: (_body, { secret }) => ({ headers: { "x-webhook-secret": secret } }),
  timestampSigned: false,
  required: ["x-webhook-secret"],
  single: ["x-webhook-secret"],
};

/** Every webhook source of issue 3, for the suites that run across all of them (fuzz, log scan). */
export const allCases: readonly WebhookCase[] = [
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
];
