import { propertySpan } from "../../envelope/json-spans";
import { nextLink } from "../../pollers/pagination";
import { bearerFromEnv } from "../../reconcile/auth";
import type { ListContext, ListedEvent, Recovered, ReconcileSpec } from "../../reconcile/types";
import { githubWebhookRecords } from "./events";

const REPO = "GITHUB_RECONCILE_REPO";
const HOOK = "GITHUB_RECONCILE_HOOK_ID";

interface Delivery {
  id?: unknown;
  guid?: unknown;
  delivered_at?: unknown;
}

function hookPath(ctx: ListContext): string {
  const repo = ctx.config[REPO] ?? "";
  const hook = ctx.config[HOOK] ?? "";
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new Error(`${REPO} must be owner/repo`);
  if (!/^\d{1,20}$/.test(hook)) throw new Error(`${HOOK} must be the hook's numeric id`);
  return `/repos/${repo}/hooks/${hook}/deliveries`;
}

/**
 * One delivery's request as GitHub kept it: its headers and payload go through the webhook's own
 * extraction, so stream, key and event id (the X-GitHub-Delivery GUID) match the webhook's.
 * Null when GitHub no longer holds the payload.
 */
async function loadDelivery(ctx: ListContext, path: string, id: string): Promise<Recovered | null> {
  const { text } = await ctx.get({ url: `${path}/${id}`, query: {} });
  const request = propertySpan(text, "request");
  if (!request || text[request[0]] !== "{") return null;
  const payload = propertySpan(text, "payload", request[0]);
  const headersAt = propertySpan(text, "headers", request[0]);
  if (!payload || !headersAt || text[payload[0]] !== "{") return null;
  const headerValues = JSON.parse(text.slice(headersAt[0], headersAt[1])) as Record<string, unknown>;
  const headers = new Headers();
  for (const [k, v] of Object.entries(headerValues ?? {})) if (typeof v === "string") headers.set(k, v);
  const payloadText = text.slice(payload[0], payload[1]);
  const [record] = githubWebhookRecords({ text: payloadText, json: JSON.parse(payloadText), headers, url: "" });
  return record ? { record, text: payloadText } : null;
}

/**
 * `GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries`: every delivery attempt of the hook,
 * newest first, paged by the Link header; GitHub keeps them 3 days and does not retry on its own.
 * A GUID (the event) may have several attempts (redeliveries); it is listed once. Only missing
 * GUIDs cost one more request each (the delivery's detail holds the payload). Token:
 * GITHUB_API_TOKEN with read access to the repository's hooks.
 */
export const githubReconcile: ReconcileSpec = {
  historyDays: 3,
  settleSeconds: 5 * 60,
  overlapSeconds: 60 * 60,
  baseUrl: "https://api.github.com",
  auth: bearerFromEnv("GITHUB_API_TOKEN", { "x-github-api-version": "2022-11-28" }),
  rateLimit: { requests: 5000, perSeconds: 3600 },
  config: [REPO, HOOK],
  async list(window, page, ctx) {
    const path = hookPath(ctx);
    const { text, headers } = await ctx.get(page ? { url: page, query: {} } : { url: path, query: { per_page: "100" } });
    const deliveries = JSON.parse(text) as Delivery[];
    if (!Array.isArray(deliveries)) throw new Error(`GET ${path} answered with something that is not a list of deliveries`);
    const byGuid = new Map<string, ListedEvent & { deliveryId: string }>();
    let oldest = Number.POSITIVE_INFINITY;
    for (const [i, d] of deliveries.entries()) {
      if (typeof d?.guid !== "string" || typeof d.delivered_at !== "string" || (typeof d.id !== "number" && typeof d.id !== "string")) {
        throw new Error(`delivery ${i} has no guid, id or delivered_at`);
      }
      const at = Date.parse(d.delivered_at);
      oldest = Math.min(oldest, at);
      const known = byGuid.get(d.guid);
      if (known && Date.parse(known.occurredAt) <= at) continue;
      byGuid.set(d.guid, { eventId: d.guid, occurredAt: d.delivered_at, deliveryId: String(d.id) });
    }
    const events = [...byGuid.values()].map(({ deliveryId, ...e }) => ({ ...e, load: () => loadDelivery(ctx, path, deliveryId) }));
    // Newest first: once a page reaches before the window, older pages hold nothing we ask about.
    const next = oldest < Date.parse(window.from) ? null : nextLink(headers.get("link"));
    return { events, next };
  },
};
