import { describe, expect, it } from "vitest";
import { zendeskScheme } from "../../src/sources/zendesk/signature";
import { aMarker, deliver, describeWebhookContract, hmacText, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { aUserCreated, zendesk } from "./cases";

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

  it("given a user.created event, when it lands, then stream users, key detail.id, version the event id at its time", async () => {
    const marker = aMarker("zd");
    const body = aUserCreated(marker);
    expect(
      (await deliver(zendesk, body, await zendesk.sign(body, { secret: zendesk.secret, nowSeconds: Math.floor(Date.now() / 1000) })))
        .status,
    ).toBe(200);
    const [line] = await waitForMarker("zendesk", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({
      stream: "users",
      key: "7263215873052",
      version: `evt-${marker}@2026-11-25T07:00:00Z`,
    });
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
