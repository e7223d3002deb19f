import { describe, expect, it } from "vitest";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { anEvent, amplitude } from "./cases";

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
