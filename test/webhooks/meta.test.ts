import { dispatch } from "../helpers/dispatch";

import { describe, expect, it } from "vitest";
import { metaScheme } from "../../src/sources/meta/signature";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { verifiesVector } from "./vectors";
import { twoEntries, meta } from "./cases";

describeWebhookContract(meta);

const handshake = (query: string) => dispatch(new Request(`https://dock.example/webhooks/meta${query}`));

describe("GET /webhooks/meta — the subscribe handshake", () => {
  it("given the right verify token, when Meta checks the endpoint, then the challenge is echoed as plain text", async () => {
    const res = await handshake("?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meta-verify-token-test");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("1158201444");
  });

  it.each([
    ["a wrong token", "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meta-verify-token-tesT"],
    ["a token that is a prefix of the right one", "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meta-verify"],
    ["no token", "?hub.mode=subscribe&hub.challenge=1158201444"],
    ["another mode", "?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meta-verify-token-test"],
    ["a challenge that is markup", "?hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=meta-verify-token-test"],
  ])("given %s, then 403 and nothing echoed", async (_name, query) => {
    const res = await handshake(query);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).not.toContain("1158201444");
    expect(text).not.toContain("meta-verify-token-test");
  });

  it("given a source without a handshake, when it is fetched with GET, then 404", async () => {
    expect((await dispatch(new Request("https://dock.example/webhooks/github?hub.mode=subscribe"))).status).toBe(404);
  });
});

describe("POST /webhooks/meta — specifics", () => {
  it("verifies the fixed vector computed with node:crypto from Meta's recipe", async () => {
    const body = '{"object":"page","entry":[{"id":"1","time":1}]}';
    const headers = { "x-hub-signature-256": "sha256=9beb268be8ba255d2f5a64001789a6f13687baf7e5432b2166caa40b572c55bb" };
    expect(await verifiesVector(metaScheme, { body, headers, secret: "meta-app-secret-test" })).toBe(true);
  });

  it("given two entries, when they land, then one record each under the object's stream, keyed by entry id", async () => {
    const marker = aMarker("mt");
    const body = twoEntries(marker);
    const res = await deliver(meta, body, await meta.sign(body, { secret: meta.secret, nowSeconds: 0 }));
    expect(await res.json()).toEqual({ ok: true, records: 2 });
    const lines = await waitForMarker("meta", marker, 2);
    expect(lines.map((l) => JSON.parse(l)._dock.key).sort()).toEqual(["102030405060708", "102030405060709"]);
    for (const l of lines) expect(JSON.parse(l)._dock.stream).toBe("page");
  });
});
