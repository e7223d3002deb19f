import { describe, expect, it } from "vitest";
import { aMarker, deliver, describeWebhookContract, waitForMarker, type WebhookCase } from "./support";

/** An event as Amplitude's event-streaming webhook sends it with the default template. */
function anEvent(marker: string) {
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
const amplitude: WebhookCase = {
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

describeWebhookContract(amplitude);

describe("POST /webhooks/amplitude — specifics", () => {
  it("given an event, when it lands, then it is keyed and deduped by insert_id", async () => {
    const marker = aMarker("amp");
    expect((await deliver(amplitude, anEvent(marker), await amplitude.sign("", { secret: amplitude.secret, nowSeconds: 0 }))).status).toBe(
      200,
    );
    const [line] = await waitForMarker("amplitude", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "events", key: `ins-${marker}`, version: `ins-${marker}` });
  });

  it.each([
    ["a prefix of the secret", "amplitude-header"],
    ["the secret with a suffix", "amplitude-header-secret-test!"],
    ["the secret as a Bearer token in another header", "Bearer amplitude-header-secret-test"],
  ])("given %s, then 401", async (_name, value) => {
    const res = await deliver(amplitude, anEvent(aMarker("x")), { headers: { "x-webhook-secret": value } });
    expect(res.status).toBe(401);
  });

  it("given the secret in the Authorization header instead of the configured one, then 401", async () => {
    const res = await deliver(amplitude, anEvent(aMarker("auth")), { headers: { authorization: "Bearer amplitude-header-secret-test" } });
    expect(res.status).toBe(401);
  });
});
