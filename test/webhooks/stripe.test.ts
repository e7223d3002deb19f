import { dispatch } from "../helpers/dispatch";

import { beforeEach, describe, expect, it } from "vitest";
import { aStripeEvent, stripeSignature } from "../helpers/stripe";
import { clearBucket, waitForRecords } from "../helpers/raw-zone";

const SECRET = "whsec_test_stripe_secret";

function post(body: string, headers: Record<string, string>) {
  return dispatch(
    new Request("https://dock.example/webhooks/stripe", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    }),
  );
}

describe("POST /webhooks/stripe", () => {
  beforeEach(clearBucket);

  it("given a webhook signed by Stripe's SDK, when posted, then it is accepted and lands verbatim in the raw zone", async () => {
    const event = aStripeEvent().withId("evt_land_1").withObject({ id: "ch_big", object: "charge", amount: 2000 });
    const body = event.json();
    const res = await post(body, { "stripe-signature": await stripeSignature(body, SECRET) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, records: 1 });

    const [line] = await waitForRecords("raw/source=stripe/stream=charges/", 1);
    expect(line?._dock).toMatchObject({
      source: "stripe",
      stream: "charges",
      pattern: "webhook",
      key: "ch_big",
      version: "evt_land_1",
      op: "event",
    });
    expect(line?._dock.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("given an integer above 2^53, when it lands, then the raw line holds the same digits", async () => {
    // Built as text: a JS number cannot hold 9007199254740993, which is the point.
    const body = aStripeEvent()
      .withId("evt_big")
      .withObject({ id: "ch_b", object: "charge", amount: 1234 })
      .json()
      .replace('"amount": 1234', '"amount": 9007199254740993');
    await post(body, { "stripe-signature": await stripeSignature(body, SECRET) });
    const { readLines } = await import("../helpers/raw-zone");
    await waitForRecords("raw/source=stripe/", 1);
    const lines = await readLines("raw/source=stripe/");
    expect(lines[0]).toContain('"amount": 9007199254740993');
  });

  it("given a *.deleted event, when it lands, then it is a delete record", async () => {
    const body = aStripeEvent().withType("customer.deleted").withObject({ id: "cus_1", object: "customer", deleted: true }).json();
    expect((await post(body, { "stripe-signature": await stripeSignature(body, SECRET) })).status).toBe(200);
    const [line] = await waitForRecords("raw/source=stripe/stream=customers/", 1);
    expect(line?._dock.op).toBe("delete");
  });

  it("given a header with several v1 values where one matches, then it is accepted", async () => {
    const body = aStripeEvent().json();
    const t = Math.floor(Date.now() / 1000);
    const good = await stripeSignature(body, SECRET, t);
    const goodV1 = good.split(",").find((p) => p.startsWith("v1="));
    const res = await post(body, { "stripe-signature": `t=${t},v1=${"0".repeat(64)},${goodV1},v0=${"1".repeat(64)}` });
    expect(res.status).toBe(200);
  });

  it.each([
    ["a tampered body", async (b: string) => ({ body: b.replace("2000", "2001"), sig: await stripeSignature(b, SECRET) })],
    ["the wrong secret", async (b: string) => ({ body: b, sig: await stripeSignature(b, "whsec_wrong") })],
    ["a stale timestamp", async (b: string) => ({ body: b, sig: await stripeSignature(b, SECRET, Math.floor(Date.now() / 1000) - 301) })],
    [
      "a timestamp from the future",
      async (b: string) => ({ body: b, sig: await stripeSignature(b, SECRET, Math.floor(Date.now() / 1000) + 301) }),
    ],
    ["a missing header", async (b: string) => ({ body: b, sig: null })],
    ["a truncated signature", async (b: string) => ({ body: b, sig: (await stripeSignature(b, SECRET)).slice(0, -2) })],
    ["only a v0 signature", async (b: string) => ({ body: b, sig: (await stripeSignature(b, SECRET)).replace("v1=", "v0=") })],
    [
      "a duplicated header (two t values)",
      async (b: string) => ({ body: b, sig: `${await stripeSignature(b, SECRET)}, ${await stripeSignature(b, SECRET)}` }),
    ],
  ])("given %s, when posted, then 401 with no detail and nothing lands", async (_name, make) => {
    const { body, sig } = await make(aStripeEvent().json());
    const res = await post(body, sig === null ? {} : { "stripe-signature": sig });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid signature" });
  });

  it("given the same event delivered twice, then it lands once", async () => {
    const body = aStripeEvent().withId("evt_twice").json();
    for (let i = 0; i < 2; i++) expect((await post(body, { "stripe-signature": await stripeSignature(body, SECRET) })).status).toBe(200);
    const other = aStripeEvent().withId("evt_after").json();
    await post(other, { "stripe-signature": await stripeSignature(other, SECRET) });
    const lines = await waitForRecords("raw/source=stripe/", 2);
    await new Promise((r) => setTimeout(r, 2500));
    const { readEnvelopes } = await import("../helpers/raw-zone");
    const all = await readEnvelopes("raw/source=stripe/");
    expect(all.filter((l) => l._dock.version === "evt_twice")).toHaveLength(1);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it("given a validly signed body that is not JSON, then it is accepted and kept raw", async () => {
    const body = "this is not json";
    const res = await post(body, { "stripe-signature": await stripeSignature(body, SECRET) });
    expect(res.status).toBe(200);
    const [line] = await waitForRecords("raw/source=stripe/stream=_unparsed/", 1);
    expect(line?.raw).toBe(body);
    expect(line?._dock.error).toBe("body is not JSON");
  });

  it("given a body over the limit, then 413 before verifying", async () => {
    const body = "x".repeat(1_048_577);
    const res = await post(body, { "stripe-signature": await stripeSignature(body, SECRET) });
    expect(res.status).toBe(413);
  });

  it("given an unknown source, then 404", async () => {
    const res = await dispatch(new Request("https://dock.example/webhooks/nope", { method: "POST", body: "{}" }));
    expect(res.status).toBe(404);
  });
});
