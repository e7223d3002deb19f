import { describe, expect, it } from "vitest";
import { shopifyScheme } from "../../src/sources/shopify/signature";
import { aMarker, deliver, describeWebhookContract, hmacText, waitForMarker, type WebhookCase } from "./support";
import { verifiesVector } from "./vectors";

/** An orders/create payload as Shopify sends it: 64-bit ids as JSON numbers. */
function anOrder(marker: string) {
  return `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","email":"${marker}@example.com","total_price":"199.00"}`;
}

// No official signer: Shopify's documented recipe, base64(HMAC-SHA256(app secret, raw body)).
const shopify: WebhookCase = {
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
});
