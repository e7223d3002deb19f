import { describe, expect, it } from "vitest";
import { zendeskScheme } from "../../src/sources/zendesk/signature";
import { aMarker, deliver, describeWebhookContract, hmacText, waitForMarker, type WebhookCase } from "./support";
import { verifiesVector } from "./vectors";

/** A Zendesk event-subscription body (`zen:event-type:…`), shaped like Zendesk's documented envelope. */
function aUserCreated(marker: string) {
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
const zendesk: WebhookCase = {
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

describeWebhookContract(zendesk);

describe("POST /webhooks/zendesk — specifics", () => {
  it("verifies the fixed vector computed with node:crypto (timestamp then body) and refuses the body-first order", async () => {
    const body = '{"type":"zen:event-type:user.created","id":"01J0000000000000000000000"}';
    const ts = "2026-11-25T07:00:00Z";
    const at = Date.parse(ts) / 1000;
    const headers = {
      "x-zendesk-webhook-signature": "yYdMwUMNinNywi6zQyFyYonAm+HrQqPvmWojqOEsuZ8=",
      "x-zendesk-webhook-signature-timestamp": ts,
    };
    expect(await verifiesVector(zendeskScheme, { body, headers, secret: "zendesk-signing-secret-test", atSeconds: at })).toBe(true);
    expect(await verifiesVector(zendeskScheme, { body, headers, secret: "zendesk-signing-secret-test", atSeconds: at + 301 })).toBe(false);
    const bodyFirst = await hmacText("SHA-256", "zendesk-signing-secret-test", body + ts, "base64");
    expect(
      await verifiesVector(zendeskScheme, {
        body,
        headers: { ...headers, "x-zendesk-webhook-signature": bodyFirst },
        secret: "zendesk-signing-secret-test",
        atSeconds: at,
      }),
    ).toBe(false);
  });

  it("given a user.created event, when it lands, then stream users, key detail.id, version the event id", async () => {
    const marker = aMarker("zd");
    const body = aUserCreated(marker);
    expect(
      (await deliver(zendesk, body, await zendesk.sign(body, { secret: zendesk.secret, nowSeconds: Math.floor(Date.now() / 1000) })))
        .status,
    ).toBe(200);
    const [line] = await waitForMarker("zendesk", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "users", key: "7263215873052", version: `evt-${marker}` });
  });

  it("given a trigger webhook's custom body, when it lands, then its invocation id is the dedupe key", async () => {
    const marker = aMarker("trig");
    const body = JSON.stringify({ ticket_id: 35436, note: marker });
    const signed = await zendesk.sign(body, { secret: zendesk.secret, nowSeconds: Math.floor(Date.now() / 1000) });
    expect((await deliver(zendesk, body, signed)).status).toBe(200);
    const [line] = await waitForMarker("zendesk", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "trigger_events", key: "8350205582", version: "8350205582" });
  });
});
