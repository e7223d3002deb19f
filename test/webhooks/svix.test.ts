import { describe, expect, it } from "vitest";
import { aMarker, deliver, describeWebhookContract, nowSeconds, waitForMarker } from "./support";
import { SVIX_SECRET, anInvoicePaid, svix } from "./cases";

describeWebhookContract(svix);

describe("POST /webhooks/svix — Standard Webhooks specifics", () => {
  it("given several space-separated signatures of which one matches, then it is accepted", async () => {
    const marker = aMarker("multi");
    const body = anInvoicePaid(marker);
    const signed = await svix.sign(body, { secret: SVIX_SECRET, nowSeconds: nowSeconds() });
    const good = signed.headers["webhook-signature"];
    const res = await deliver(svix, body, {
      headers: { ...signed.headers, "webhook-signature": `v1,${btoa("x".repeat(32))} v1a,${btoa("y".repeat(64))} ${good}` },
    });
    expect(res.status).toBe(200);
  });

  it("given only a v1a (ed25519) signature, then it is refused: asymmetric signatures are not trusted by this scheme", async () => {
    const body = anInvoicePaid(aMarker("v1a"));
    const signed = await svix.sign(body, { secret: SVIX_SECRET, nowSeconds: nowSeconds() });
    const res = await deliver(svix, body, {
      headers: { ...signed.headers, "webhook-signature": (signed.headers["webhook-signature"] ?? "").replace("v1,", "v1a,") },
    });
    expect(res.status).toBe(401);
  });

  it("given an invoice.paid message, when it lands, then stream, key and version come from type, data.id and webhook-id, bytes verbatim", async () => {
    const marker = aMarker("shape");
    const body = anInvoicePaid(marker);
    expect((await svix.sign(body, { secret: SVIX_SECRET, nowSeconds: 0 })).headers["webhook-id"]).toBe(`msg_inv_${marker}`);
    const res = await deliver(svix, body, await svix.sign(body, { secret: SVIX_SECRET, nowSeconds: nowSeconds() }));
    expect(res.status).toBe(200);
    const [line] = await waitForMarker("svix", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({
      stream: "invoices",
      key: `inv_${marker}`,
      version: `msg_inv_${marker}`,
      op: "event",
    });
    expect(line).toContain(`"data":${body}}`);
    expect(line).toContain("9007199254740993");
  });
});
