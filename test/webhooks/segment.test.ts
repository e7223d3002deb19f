import { describe, expect, it } from "vitest";
import { segmentScheme } from "../../src/sources/segment/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { aTrack, segment } from "./cases";

describeWebhookContract(segment);

describe("POST /webhooks/segment — specifics", () => {
  it("verifies the fixed vector computed with node:crypto from Segment's recipe", async () => {
    const body = '{"type":"track","messageId":"ajs-1","event":"Order Completed"}';
    expect(
      await verifiesVector(segmentScheme, {
        body,
        headers: { "x-signature": "becf06bb2936a6a25b06f67f69a1611d2b2485db" },
        secret: "segment-shared-secret-test",
      }),
    ).toBe(true);
  });

  it("given a track call, when it lands, then stream tracks keyed and deduped by messageId", async () => {
    const marker = aMarker("sg");
    const body = aTrack(marker);
    expect((await deliver(segment, body, await segment.sign(body, { secret: segment.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("segment", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "tracks", key: `ajs-${marker}`, version: `ajs-${marker}` });
  });

  it("given a batch from the Actions destination, when it lands, then one record per message under its call type", async () => {
    const marker = aMarker("batch");
    const identify = JSON.stringify({ type: "identify", messageId: `id-${marker}`, userId: "u_1", traits: { plan: "pro" } });
    const body = `[${aTrack(marker)},${identify}]`;
    const res = await deliver(segment, body, await segment.sign(body, { secret: segment.secret, nowSeconds: 0 }));
    expect(await res.json()).toEqual({ ok: true, records: 2 });
    const lines = await waitForMarker("segment", marker, 2);
    expect(lines.map((l) => JSON.parse(l)._dock.stream).sort()).toEqual(["identifies", "tracks"]);
  });

  it("given an unsigned delivery (no shared secret set in Segment), then it is refused", async () => {
    const res = await deliver(segment, aTrack(aMarker("unsigned")), { headers: {} });
    expect(res.status).toBe(401);
  });
});
