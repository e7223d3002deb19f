import { describe, expect, it } from "vitest";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { anIssueOpened, github } from "./cases";

describeWebhookContract(github);

describe("POST /webhooks/github — specifics", () => {
  it("given an issues event, when it lands, then it is filed under the event name with the delivery GUID as its id", async () => {
    const marker = aMarker("gh");
    const body = anIssueOpened(marker);
    expect((await deliver(github, body, await github.sign(body, { secret: github.secret, nowSeconds: 0 }))).status).toBe(200);
    const [line] = await waitForMarker("github", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "issues", key: `guid-${marker}`, version: `guid-${marker}` });
    expect(line).not.toMatch(/\n/);
  });

  it("given the legacy sha1 X-Hub-Signature alone, then it is refused", async () => {
    const body = anIssueOpened(aMarker("sha1"));
    const signed = await github.sign(body, { secret: github.secret, nowSeconds: 0 });
    const res = await deliver(github, body, signed, (h) => {
      h.set("x-hub-signature", (h.get("x-hub-signature-256") ?? "").replace("sha256=", "sha1="));
      h.delete("x-hub-signature-256");
    });
    expect(res.status).toBe(401);
  });

  it("given a valid signature but no X-GitHub-Delivery, then the body is kept whole under _unparsed, never dropped", async () => {
    const marker = aMarker("nodelivery");
    const body = anIssueOpened(marker);
    const res = await deliver(github, body, await github.sign(body, { secret: github.secret, nowSeconds: 0 }), (h) =>
      h.delete("x-github-delivery"),
    );
    expect(res.status).toBe(200);
    const [line] = await waitForMarker("github", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "_unparsed", error: "unexpected body: no X-GitHub-Delivery header" });
  });
});
