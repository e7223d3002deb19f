import type { CustomScheme } from "../../webhooks/types";
import { tokenEquals } from "../webhook-helpers";
import { parseOutboundMessage, sameOrganization } from "./soap";

export const ORG_ID_SETTING = "SALESFORCE_ORG_ID";

/**
 * Outbound messages carry no signature. A delivery is authentic when both hold:
 * - the URL's `token` query parameter equals SALESFORCE_WEBHOOK_SECRET (or its _PREVIOUS during a
 *   rotation), compared in constant time — Salesforce cannot add headers to an outbound message,
 *   so the secret travels in the endpoint URL configured in Salesforce (`…/webhooks/salesforce?token=…`);
 * - the envelope's `OrganizationId` is SALESFORCE_ORG_ID (15 or 18 characters).
 * An envelope that cannot be read is refused too: without it the organization is unknown.
 */
export const salesforceScheme: CustomScheme = {
  kind: "custom",
  async verify(req, secret, ctx) {
    const tokens = new URL(req.url).searchParams.getAll("token");
    const tokenOk = await tokenEquals(tokens.length === 1 ? (tokens[0] ?? "") : "", secret);
    const orgId = ctx.config?.[ORG_ID_SETTING];
    if (!tokenOk || tokens.length !== 1 || !orgId) return false;
    let xml: string;
    try {
      xml = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(req.body);
    } catch {
      return false;
    }
    const message = parseOutboundMessage(xml);
    return message !== null && sameOrganization(message.organizationId, orgId);
  },
};
