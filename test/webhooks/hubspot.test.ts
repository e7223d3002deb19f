import { Signature } from "@hubspot/api-client/lib/src/utils/signature";
import { describe, expect, it } from "vitest";
import { hubspotSignedUri } from "../../src/sources/hubspot/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { URL_CALLED, twoContactEvents, hubspot } from "./cases";

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
