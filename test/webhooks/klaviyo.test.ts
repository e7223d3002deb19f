import { describe, expect, it } from "vitest";
import { klaviyoScheme } from "../../src/sources/klaviyo/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { twoEvents, klaviyo } from "./cases";

describeWebhookContract(klaviyo);

describe("POST /webhooks/klaviyo — specifics", () => {
  it("verifies the fixed vector computed with node:crypto (body then timestamp)", async () => {
    const body = '{"data":[{"external_id":"ev_1"}]}';
    const ts = "2026-11-25T07:00:00Z";
    const headers = { "klaviyo-signature": "93ea68a9fe577c5c83907977153d6c25b8ab22891c85d41dbed7947b0c088fda", "klaviyo-timestamp": ts };
    expect(
      await verifiesVector(klaviyoScheme, { body, headers, secret: "klaviyo-webhook-secret-test", atSeconds: Date.parse(ts) / 1000 }),
    ).toBe(true);
    expect(
      await verifiesVector(klaviyoScheme, { body, headers, secret: "klaviyo-webhook-secret-test", atSeconds: Date.parse(ts) / 1000 + 600 }),
    ).toBe(false);
  });

  it("given two items in data[], when they land, then each is its own record keyed by external_id, bytes verbatim", async () => {
    const marker = aMarker("kl");
    const body = twoEvents(marker);
    const res = await deliver(
      klaviyo,
      body,
      await klaviyo.sign(body, { secret: klaviyo.secret, nowSeconds: Math.floor(Date.now() / 1000) }),
    );
    expect(await res.json()).toEqual({ ok: true, records: 2 });
    const lines = await waitForMarker("klaviyo", marker, 2);
    expect(lines.map((l) => JSON.parse(l)._dock.key).sort()).toEqual([`ev_${marker}_1`, `ev_${marker}_2`]);
    expect(lines.some((l) => l.includes(`"data":{"topic":"event:klaviyo.email_delivered","external_id":"ev_${marker}_1"`))).toBe(true);
  });

  it("given an item whose payload carries the event's datetime, when it lands, then its version is the event id at that datetime (what the high-water mark reads)", async () => {
    const marker = aMarker("kl");
    const body = twoEvents(marker);
    await deliver(klaviyo, body, await klaviyo.sign(body, { secret: klaviyo.secret, nowSeconds: Math.floor(Date.now() / 1000) }));
    const lines = await waitForMarker("klaviyo", marker, 2);
    expect(lines.map((l) => JSON.parse(l)._dock.version).sort()).toEqual([
      `ev_${marker}_1@2026-11-25T07:00:01+00:00`,
      `ev_${marker}_2@2026-11-25T07:00:02+00:00`,
    ]);
  });

  it("given a body whose meta.klaviyo_webhook_id differs from the header, then it is kept whole under _unparsed, not split", async () => {
    const marker = aMarker("mismatch");
    const body = twoEvents(marker);
    const signed = await klaviyo.sign(body, { secret: klaviyo.secret, nowSeconds: Math.floor(Date.now() / 1000) });
    const res = await deliver(klaviyo, body, { headers: { ...signed.headers, "klaviyo-webhook-id": "01OTHER" } });
    expect(res.status).toBe(200);
    const [line] = await waitForMarker("klaviyo", marker, 1);
    expect(JSON.parse(line ?? "")._dock.stream).toBe("_unparsed");
  });
});
