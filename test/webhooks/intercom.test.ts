import { describe, expect, it } from "vitest";
import { intercomScheme } from "../../src/sources/intercom/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { aContactCreated, intercom } from "./cases";

describeWebhookContract(intercom);

describe("POST /webhooks/intercom — specifics", () => {
  it("verifies the fixed vector computed with node:crypto from Intercom's recipe", async () => {
    const body = '{"type":"notification_event","id":"notif_1","topic":"contact.created"}';
    const headers = { "x-hub-signature": "sha1=eccab209d8f65fec673f7dffa9990810d92c73c4" };
    expect(await verifiesVector(intercomScheme, { body, headers, secret: "intercom-client-secret-test" })).toBe(true);
    expect(
      await verifiesVector(intercomScheme, {
        body,
        headers: { "x-hub-signature": headers["x-hub-signature"].replace("sha1=", "sha256=") },
        secret: "intercom-client-secret-test",
      }),
    ).toBe(false);
  });

  it("given a contact notification, when it lands, then stream contacts, key the item id, version the notification id", async () => {
    const marker = aMarker("ic");
    const body = aContactCreated(marker);
    expect((await deliver(intercom, body, await intercom.sign(body, { secret: intercom.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("intercom", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "contacts", key: `ct_${marker}`, version: `notif_${marker}` });
  });

  it("given a conversation notification whose item carries updated_at, when it lands, then its version is the notification id at that updated_at (what the high-water mark reads)", async () => {
    const marker = aMarker("ic");
    const body = JSON.stringify({
      type: "notification_event",
      app_id: "abc123",
      data: {
        type: "notification_event_data",
        item: { type: "conversation", id: `cv_${marker}`, updated_at: 1764054123, parts: [{ updated_at: 1 }] },
      },
      id: `notif_${marker}`,
      topic: "conversation.admin.replied",
      created_at: 1764054124,
    });
    expect((await deliver(intercom, body, await intercom.sign(body, { secret: intercom.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("intercom", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({
      stream: "conversations",
      key: `cv_${marker}`,
      version: `notif_${marker}@1764054123`,
    });
  });
});
