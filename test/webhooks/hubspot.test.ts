import { Signature } from "@hubspot/api-client/lib/src/utils/signature";
import { describe, expect, it } from "vitest";
import { hubspotSignedUri } from "../../src/sources/hubspot/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker, type WebhookCase } from "./support";

const URL_CALLED = "https://dock.example/webhooks/hubspot";

/** Two events as HubSpot posts them (a JSON array); objectId above 2^53 is written as text on purpose. */
function twoContactEvents(marker: string) {
  const n = Number.parseInt(marker.replace(/\D/g, "").slice(-6) || "1", 10);
  return `[{"eventId":${n},"subscriptionId":12345,"portalId":62515,"appId":54321,"occurredAt":1764054000000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":9007199254740993,"propertyName":"firstname","propertyValue":"${marker}","changeSource":"CRM"},
{"eventId":${n + 1},"subscriptionId":12346,"portalId":62515,"appId":54321,"occurredAt":1764054000001,"subscriptionType":"deal.deletion","attemptNumber":0,"objectId":42,"changeSource":"CRM","note":"${marker}"}]`;
}

// Signed by HubSpot's own `@hubspot/api-client` (Signature.getSignature, v3; `signature` is only read by isValid).
const hubspot: WebhookCase = {
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

describeWebhookContract(hubspot);

describe("POST /webhooks/hubspot — specifics", () => {
  it("given a batch of two events, when it lands, then each is its own record with its bytes verbatim and a delete for *.deletion", async () => {
    const marker = aMarker("hs");
    const body = twoContactEvents(marker);
    const res = await deliver(
      hubspot,
      body,
      await hubspot.sign(body, { secret: hubspot.secret, nowSeconds: Math.floor(Date.now() / 1000) }),
    );
    expect(await res.json()).toEqual({ ok: true, records: 2 });
    const lines = await waitForMarker("hubspot", marker, 2);
    const contacts = lines.find((l) => l.includes('"stream":"contacts"')) ?? "";
    const deals = lines.find((l) => l.includes('"stream":"deals"')) ?? "";
    expect(JSON.parse(contacts)._dock).toMatchObject({ key: "9007199254740993", op: "event" });
    expect(JSON.parse(contacts)._dock.version).toMatch(/^62515:12345:\d+:1764054000000$/);
    expect(contacts).toContain('"objectId":9007199254740993');
    expect(JSON.parse(deals)._dock).toMatchObject({ key: "42", op: "delete" });
  });

  it("given a URL whose query holds encoded characters, then the signature over HubSpot's decoded form verifies", async () => {
    const marker = aMarker("url");
    const body = twoContactEvents(marker);
    const query = "?portal=a%3Ab%2Fc%40d&keep=%20";
    const timestamp = Date.now();
    expect(hubspotSignedUri(`${URL_CALLED}${query}`)).toBe(`${URL_CALLED}?portal=a:b/c@d&keep=%20`);
    const signature = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: hubspot.secret,
      requestBody: body,
      url: `${URL_CALLED}?portal=a:b/c@d&keep=%20`,
      timestamp,
    });
    const res = await deliver(hubspot, body, {
      query,
      headers: { "x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": String(timestamp) },
    });
    expect(res.status).toBe(200);
  });

  it("given a signature over another URL, then it is refused (the URL is signed)", async () => {
    const body = twoContactEvents(aMarker("other"));
    const timestamp = Date.now();
    const signature = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: hubspot.secret,
      requestBody: body,
      url: "https://elsewhere.example/hook",
      timestamp,
    });
    const res = await deliver(hubspot, body, {
      headers: { "x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": String(timestamp) },
    });
    expect(res.status).toBe(401);
  });

  it("given the timestamp in seconds instead of milliseconds, then it is refused as stale", async () => {
    const body = twoContactEvents(aMarker("secs"));
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: hubspot.secret,
      requestBody: body,
      url: URL_CALLED,
      timestamp,
    });
    const res = await deliver(hubspot, body, {
      headers: { "x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": String(timestamp) },
    });
    expect(res.status).toBe(401);
  });
});
