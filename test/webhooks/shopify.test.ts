import { describe, expect, it } from "vitest";
import { shopifyVersionTime } from "../../src/sources/shopify/reconcile";
import { shopifyScheme } from "../../src/sources/shopify/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { anOrder, shopify } from "./cases";

describeWebhookContract(shopify);

describe("POST /webhooks/shopify — specifics", () => {
  it("verifies the fixed vector computed with node:crypto from Shopify's recipe", async () => {
    const body = '{"id":820982911946154508,"email":"jon@example.com"}';
    const headers = { "x-shopify-hmac-sha256": "W0V027QczAazrpEBnoLGxU/fCTCqbAkOwjrawB0bPF0=" };
    expect(await verifiesVector(shopifyScheme, { body, headers, secret: "shopify-app-secret-test" })).toBe(true);
    expect(await verifiesVector(shopifyScheme, { body: `${body} `, headers, secret: "shopify-app-secret-test" })).toBe(false);
  });

  it("given an order, when it lands, then stream orders, key the 64-bit id as sent, version event id + topic", async () => {
    const marker = aMarker("sh");
    const body = anOrder(marker);
    expect((await deliver(shopify, body, await shopify.sign(body, { secret: shopify.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("shopify", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({
      stream: "orders",
      key: "820982911946154508",
      version: `evt-${marker}:orders/create`,
    });
  });

  it("given one event delivered under two topics, then both land (the topic is part of the dedupe key)", async () => {
    const marker = aMarker("topics");
    const body = anOrder(marker);
    const signed = await shopify.sign(body, { secret: shopify.secret, nowSeconds: 0 });
    expect((await deliver(shopify, body, signed)).status).toBe(200);
    expect((await deliver(shopify, body, signed, (h) => h.set("x-shopify-topic", "orders/paid"))).status).toBe(200);
    expect(await waitForMarker("shopify", marker, 2)).toHaveLength(2);
  });

  it("given an order carrying updated_at, when it lands, then its version is event id + topic @ updated_at, which the high-water mark reads as that time", async () => {
    const marker = aMarker("upd");
    const body = anOrder(marker).replace(/}$/, ',"updated_at":"2026-11-25T02:00:05-05:00"}');
    expect((await deliver(shopify, body, await shopify.sign(body, { secret: shopify.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("shopify", marker, 1);
    const version = JSON.parse(line ?? "")._dock.version as string;
    expect(version).toBe(`evt-${marker}:orders/create@2026-11-25T02:00:05-05:00`);
    expect(shopifyVersionTime(version, "820982911946154508")).toBe(Date.parse("2026-11-25T07:00:05Z"));
  });

  it("given a deletion (its body is only the id), when it lands, then its version is timed by X-Shopify-Triggered-At", async () => {
    const marker = aMarker("del");
    const body = `{"id":820982911946154508,"marker":"${marker}"}`;
    const signed = await shopify.sign(body, { secret: shopify.secret, nowSeconds: 0 });
    const res = await deliver(shopify, body, signed, (h) => {
      h.set("x-shopify-topic", "orders/delete");
      h.set("x-shopify-event-id", `evt-${marker}`);
      h.set("x-shopify-triggered-at", "2026-11-25T07:00:09.123Z");
    });
    expect(res.status).toBe(200);
    const [line] = await waitForMarker("shopify", marker, 1);
    const dock = JSON.parse(line ?? "")._dock;
    expect(dock).toMatchObject({ stream: "orders", op: "delete", version: `evt-${marker}:orders/delete@2026-11-25T07:00:09.123Z` });
    expect(shopifyVersionTime(dock.version, dock.key)).toBe(Date.parse("2026-11-25T07:00:09.123Z"));
  });
});
