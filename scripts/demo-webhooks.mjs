import { createHmac, randomUUID } from "node:crypto";
import Stripe from "stripe";

const stripe = new Stripe("sk_test_demo");

/** Signed demo webhooks: Stripe events signed by Stripe's own SDK, and an Acme (generic HMAC) delivery. */
export async function sendDemoWebhooks(baseUrl, vars, count = 5) {
  const sent = [];
  for (let i = 0; i < count; i++) {
    const id = `evt_demo_${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify(
      {
        id,
        object: "event",
        type: i % 2 ? "customer.created" : "charge.succeeded",
        created: Math.floor(Date.now() / 1000),
        data: {
          object:
            i % 2
              ? { id: `cus_demo_${i}`, object: "customer" }
              : { id: `ch_demo_${i}`, object: "charge", amount: 1000 + i, currency: "usd" },
        },
      },
      null,
      2,
    );
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: vars.STRIPE_WEBHOOK_SECRET });
    const res = await fetch(`${baseUrl}/webhooks/stripe`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "stripe-signature": signature },
    });
    sent.push({ source: "stripe", id, status: res.status });
  }
  const body = JSON.stringify({ id: `acme_${randomUUID().slice(0, 8)}`, kind: "order.shipped", order: 42 });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac("sha256", vars.ACME_WEBHOOK_SECRET).update(`${ts}.${body}`).digest("hex");
  const res = await fetch(`${baseUrl}/webhooks/acme`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-acme-signature": `sha256=${sig}`,
      "x-acme-timestamp": ts,
      "x-acme-delivery": randomUUID(),
    },
  });
  sent.push({ source: "acme", status: res.status });
  return sent;
}
