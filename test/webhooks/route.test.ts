import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { aStripeEvent, stripeSignature } from "../helpers/stripe";

const SECRET = "whsec_test_stripe_secret";

describe("the webhook route's promises", () => {
  it("given the queue refuses the message, then 503 with Retry-After, so the vendor retries", async () => {
    const refusing = {
      send: async () => Promise.reject(new Error("queue down")),
      sendBatch: async () => Promise.reject(new Error("queue down")),
    };
    const body = aStripeEvent().json();
    const res = await createApp().fetch(
      new Request("https://dock.example/webhooks/stripe", {
        method: "POST",
        body,
        headers: { "stripe-signature": await stripeSignature(body, SECRET) },
      }),
      { ...env, INGEST: refusing as unknown as Queue },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });

  it("given a source whose secret is not set, then 404 as for an unknown source", async () => {
    const body = aStripeEvent().json();
    const res = await createApp().fetch(
      new Request("https://dock.example/webhooks/stripe", {
        method: "POST",
        body,
        headers: { "stripe-signature": await stripeSignature(body, SECRET) },
      }),
      { ...env, STRIPE_WEBHOOK_SECRET: undefined } as unknown as Env,
    );
    expect(res.status).toBe(404);
  });

  it("given a chunked body that passes the limit without a Content-Length, then 413", async () => {
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await createApp().fetch(
      new Request("https://dock.example/webhooks/stripe", { method: "POST", body: stream, headers: { "stripe-signature": "t=1,v1=00" } }),
      env,
    );
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(8);
  });

  it("given the previous secret during a rotation, then it still verifies", async () => {
    const body = aStripeEvent().json();
    const res = await createApp().fetch(
      new Request("https://dock.example/webhooks/stripe", {
        method: "POST",
        body,
        headers: { "stripe-signature": await stripeSignature(body, "whsec_old_secret") },
      }),
      { ...env, STRIPE_WEBHOOK_SECRET: "whsec_new_secret", STRIPE_WEBHOOK_SECRET_PREVIOUS: "whsec_old_secret" } as unknown as Env,
    );
    expect(res.status).toBe(200);
  });
});
