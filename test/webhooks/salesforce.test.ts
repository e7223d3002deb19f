import { describe, expect, it } from "vitest";
import { aMarker, deliver, describeWebhookContract, linesWith, settle, waitForMarker } from "./support";
import { sfId, anOutboundMessage, salesforce } from "./cases";

describeWebhookContract(salesforce);

describe("POST /webhooks/salesforce — outbound message specifics", () => {
  const post = (body: string, query = "?token=salesforce-url-token-test") => deliver(salesforce, body, { query, headers: {} });

  it("given a valid message, when it is queued, then the answer is the SOAP Ack true", async () => {
    const res = await post(anOutboundMessage(aMarker("ack")));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    const xml = await res.text();
    expect(xml).toContain('<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">');
    expect(xml).toContain("<Ack>true</Ack>");
  });

  it("given two notifications, when they land, then each sObject is kept verbatim as a string, keyed by its Id, versioned by the notification Id", async () => {
    const marker = aMarker("sf");
    await post(anOutboundMessage(marker));
    const lines = await waitForMarker("salesforce", marker, 2);
    const first = JSON.parse(lines.find((l) => l.includes(`${marker} 1`)) ?? "");
    expect(first._dock).toMatchObject({ stream: "account", key: sfId("0011", marker), version: sfId("04l1", marker), op: "upsert" });
    expect(first.raw).toMatch(
      /^<sObject xsi:type="sf:Account"[\s\S]*<sf:AnnualRevenue>9007199254740993<\/sf:AnnualRevenue>[\s\S]*<\/sObject>$/,
    );
    expect(first.raw).toContain(`Acme &amp; Sons ${marker} 1`);
    for (const l of lines) expect(l).not.toContain("Live.Session.Token");
  });

  it("given a message that selects SystemModstamp, when a notification is retried with the record changed meanwhile, then each state lands once, versioned <notification Id>@<SystemModstamp>", async () => {
    const marker = aMarker("sfm");
    const at = (stamp: string) =>
      anOutboundMessage(marker).replace(
        /<\/sf:AnnualRevenue>/g,
        `</sf:AnnualRevenue>\n     <sf:SystemModstamp>${stamp}</sf:SystemModstamp>`,
      );
    await post(at("2026-12-06T03:04:05.000Z"));
    await post(at("2026-12-06T03:04:05.000Z"));
    await post(at("2026-12-06T03:09:00.000Z"));
    const lines = (await waitForMarker("salesforce", marker, 4)).map((l) => JSON.parse(l)._dock);
    const first = lines.filter((d) => d.key === sfId("0011", marker)).map((d) => d.version);
    expect(first.sort()).toEqual([`${sfId("04l1", marker)}@2026-12-06T03:04:05.000Z`, `${sfId("04l1", marker)}@2026-12-06T03:09:00.000Z`]);
    expect(new Set(lines.map((d) => d.id)).size).toBe(4);
    // The plain retry (same notification, same state) landed nothing.
    await settle();
    expect(await linesWith("salesforce", marker)).toHaveLength(4);
  });

  it.each([
    ["another organization", (m: string) => [anOutboundMessage(m, "00D000000000099ZZZ"), undefined]],
    ["the org id in the wrong case", (m: string) => [anOutboundMessage(m, "00d000000000062EAA"), undefined]],
    ["a token given twice", (m: string) => [anOutboundMessage(m), "?token=salesforce-url-token-test&token=salesforce-url-token-test"]],
    ["the token in another parameter", (m: string) => [anOutboundMessage(m), "?secret=salesforce-url-token-test"]],
    ["a token with a suffix", (m: string) => [anOutboundMessage(m), "?token=salesforce-url-token-testX"]],
    ["an envelope that is not an outbound message", () => ["<soapenv:Envelope><soapenv:Body/></soapenv:Envelope>", undefined]],
    ["a DTD", (m: string) => [`<!DOCTYPE x [<!ENTITY e "x">]>${anOutboundMessage(m)}`, undefined]],
    ["a JSON body", () => ['{"OrganizationId":"00D000000000062EAA"}', undefined]],
  ])("given %s, then 401", async (_name, make) => {
    const [body, query] = make(aMarker("no")) as [string, string | undefined];
    const res = await post(body, query);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("salesforce-url-token");
  });

  it("given the 15-character org id Salesforce shows in Setup, then the 18-character id it sends matches", async () => {
    const { sameOrganization } = await import("../../src/sources/salesforce/soap");
    expect(sameOrganization("00D000000000062EAA", "00D000000000062")).toBe(true);
    expect(sameOrganization("00D000000000062EAA", "00D000000000063")).toBe(false);
  });
});
