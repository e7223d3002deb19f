import { createHmac, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";

/**
 * A signed test delivery per source, signed with the local secret the way the vendor signs it.
 * Each returns { body, headers } for POST /webhooks/<source>.
 */
const nowSeconds = () => Math.floor(Date.now() / 1000);

export const testWebhooks = {
  stripe(secret) {
    const id = `evt_test_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const body = JSON.stringify({
      id,
      object: "event",
      type: "charge.succeeded",
      created: nowSeconds(),
      livemode: false,
      data: { object: { id: `ch_test_${randomUUID().slice(0, 8)}`, object: "charge", amount: 4200, currency: "usd" } },
    });
    const signature = new Stripe("sk_test_dock_cli").webhooks.generateTestHeaderString({ payload: body, secret });
    return { id, body, headers: { "content-type": "application/json", "stripe-signature": signature } };
  },
  svix(secret) {
    const id = `msg_${randomUUID().replace(/-/g, "")}`;
    const body = JSON.stringify({
      type: "invoice.paid",
      timestamp: new Date().toISOString(),
      data: { id: `inv_${randomUUID().slice(0, 8)}`, amount: 1200 },
    });
    const at = new Date();
    const signature = new Webhook(secret).sign(id, at, body);
    return {
      id,
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
    };
  },
  github(secret) {
    const id = randomUUID();
    const body = JSON.stringify({
      action: "opened",
      issue: { id: 1, number: 1, title: "dock send-test-webhook" },
      repository: { full_name: "acme/dock" },
    });
    const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    return {
      id,
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": id,
        "x-hub-signature-256": signature,
      },
    };
  },
  acme(secret) {
    const id = `acme_${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify({ id, kind: "order.shipped", order: 42 });
    const ts = String(nowSeconds());
    const sig = createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex");
    return {
      id,
      body,
      headers: {
        "content-type": "application/json",
        "x-acme-signature": `sha256=${sig}`,
        "x-acme-timestamp": ts,
        "x-acme-delivery": randomUUID(),
      },
    };
  },
};

export function secretVar(source) {
  return `${source.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_WEBHOOK_SECRET`;
}

/** Signs and sends one test delivery; resolves with the Worker's status and answer. */
export async function sendTestWebhook({ url, source, vars, env = process.env }) {
  const make = testWebhooks[source];
  if (!make) throw new Error(`no test webhook for ${JSON.stringify(source)}; known: ${Object.keys(testWebhooks).join(", ")}`);
  const name = secretVar(source);
  const secret = env[name] ?? vars[name];
  if (!secret) throw new Error(`${name} is not set (add it to .dev.vars; .dev.vars.example lists every source's secret)`);
  const { id, body, headers } = make(secret);
  let res;
  try {
    res = await fetch(`${url}/webhooks/${source}`, { method: "POST", body, headers });
  } catch (err) {
    throw new Error(`cannot reach ${url} (${err.cause?.code ?? err.message}); is \`npm run dev\` running?`);
  }
  return { id, status: res.status, answer: await res.text() };
}
