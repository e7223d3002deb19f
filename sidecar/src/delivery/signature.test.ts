import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { TEST_SECRET } from "../../test/helpers/webhook-sink";
import { signingKey, standardWebhookSignature } from "./signature";

describe("standardWebhookSignature", () => {
  it("given bodies of every kind, when signed natively, then the signature equals the standardwebhooks package's and verifies with it", () => {
    const wh = new Webhook(TEST_SECRET);
    const key = signingKey(TEST_SECRET);
    const at = new Date("2026-11-25T08:00:00Z");
    for (const body of [`{"bundles":[]}`, `{"x":"é😀\\n"}`, `{"pad":"${"x".repeat(300_000)}"}`]) {
      const sig = standardWebhookSignature(key, "msg_1", at.getTime() / 1000, Buffer.from(body, "utf8"));
      expect(sig).toBe(wh.sign("msg_1", at, body));
      const now = new Date();
      const live = standardWebhookSignature(key, "msg_2", Math.floor(now.getTime() / 1000), Buffer.from(body, "utf8"));
      expect(() =>
        wh.verify(body, {
          "webhook-id": "msg_2",
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": live,
        }),
      ).not.toThrow();
    }
  });
});
