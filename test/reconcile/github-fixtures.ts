import { githubWebhookRecords } from "../../src/sources/github/events";
import type { RecordBundle } from "../../src/envelope/bundle";
import { recordsToEnvelopes } from "../../src/webhooks/to-envelopes";

export const GITHUB_TOKEN = "ghp_reconcileTestToken000000000000000000";
export const REPO = "acme/shop";
export const HOOK_ID = "12345";
const HOOKS = `/repos/${REPO}/hooks/${HOOK_ID}/deliveries`;

/** One delivery attempt as GitHub's deliveries API documents it; the payload is what was posted. */
export interface DeliveryFixture {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number;
  payload: Record<string, unknown>;
}

let nextId = 70_000_000_000;
export function aDelivery() {
  const d: DeliveryFixture = {
    id: ++nextId,
    guid: crypto.randomUUID(),
    delivered_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: false,
    duration: 0.27,
    status: "OK",
    status_code: 200,
    event: "issues",
    action: "opened",
    installation_id: null,
    repository_id: 424242,
    payload: {},
  };
  const b = {
    withGuid(guid: string) {
      d.guid = guid;
      return b;
    },
    at(ms: number) {
      d.delivered_at = new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
      return b;
    },
    failed() {
      d.status = "failed to connect";
      d.status_code = 502;
      return b;
    },
    redelivered() {
      d.redelivery = true;
      return b;
    },
    of(event: string, action: string | null) {
      d.event = event;
      d.action = action;
      return b;
    },
    build(): DeliveryFixture {
      d.payload = {
        action: d.action,
        issue: { id: 1_000_000 + (d.id % 1000), number: d.id % 1000, title: `issue ${d.guid}` },
        repository: { id: 424242, full_name: REPO },
      };
      return { ...d };
    },
  };
  return b;
}

const listItem = ({ payload: _p, ...d }: DeliveryFixture) => d;
const headersOf = (d: DeliveryFixture) => ({
  Accept: "*/*",
  "User-Agent": "GitHub-Hookshot/abc1234",
  "X-GitHub-Delivery": d.guid,
  "X-GitHub-Event": d.event,
  "X-GitHub-Hook-ID": HOOK_ID,
  "content-type": "application/json",
});

/** The body GitHub posted for a delivery. */
export const postedBody = (d: DeliveryFixture) => JSON.stringify(d.payload);

/**
 * `GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries` (newest first, `per_page` ≤ 100, `cursor`
 * paging through the Link header) and `GET …/deliveries/{delivery_id}` (the request's headers and
 * payload). Strict: anything else is a 404 noted in `violations`.
 */
export function githubDeliveriesApi(deliveries: readonly DeliveryFixture[], opts: { payloadGone?: ReadonlySet<string> } = {}) {
  const sorted = [...deliveries].sort((a, b) => (a.delivered_at < b.delivered_at ? 1 : a.delivered_at > b.delivered_at ? -1 : b.id - a.id));
  const api = {
    listCalls: [] as URL[],
    detailCalls: [] as string[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
      const refuse = (why: string) => {
        api.violations.push(why);
        return Response.json({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, { status: 404 });
      };
      if (url.origin !== "https://api.github.com") return refuse(`origin ${url.origin}`);
      if (headers.get("authorization") !== `Bearer ${GITHUB_TOKEN}`) return refuse("missing or wrong token");
      if (headers.get("x-github-api-version") !== "2022-11-28") return refuse("no X-GitHub-Api-Version");
      if (url.pathname === HOOKS) {
        api.listCalls.push(url);
        for (const k of url.searchParams.keys()) if (k !== "per_page" && k !== "cursor") return refuse(`parameter ${k}`);
        const perPage = Number(url.searchParams.get("per_page") ?? "30");
        if (!(perPage >= 1 && perPage <= 100)) return refuse(`per_page ${perPage}`);
        const cursor = url.searchParams.get("cursor");
        const start = cursor ? Number(cursor.replace(/^v1_/, "")) : 0;
        const page = sorted.slice(start, start + perPage).map(listItem);
        const more = start + perPage < sorted.length;
        const link = more ? `<https://api.github.com${HOOKS}?per_page=${perPage}&cursor=v1_${start + perPage}>; rel="next"` : "";
        return new Response(JSON.stringify(page), {
          headers: { "content-type": "application/json; charset=utf-8", ...(link ? { link } : {}) },
        });
      }
      const m = new RegExp(`^${HOOKS}/(\\d+)$`).exec(url.pathname);
      const d = m ? deliveries.find((x) => String(x.id) === m[1]) : undefined;
      if (!d) return refuse(`unexpected path ${url.pathname}`);
      api.detailCalls.push(d.guid);
      const detail = {
        ...listItem(d),
        url: "https://dock.example/webhooks/github",
        // GitHub answers null for a payload it no longer keeps.
        request: { headers: headersOf(d), payload: opts.payloadGone?.has(d.guid) ? null : d.payload },
        response: { headers: {}, payload: d.status_code === 200 ? '{"ok":true,"records":1}' : null },
      };
      return new Response(JSON.stringify(detail), { headers: { "content-type": "application/json; charset=utf-8" } });
    },
  };
  return api;
}

/** INGEST bundles as the webhook route builds them for deliveries that reached us. */
export async function githubBundles(source: string, deliveries: readonly DeliveryFixture[]): Promise<RecordBundle[]> {
  const receivedAt = new Date().toISOString();
  const out: RecordBundle[] = [];
  for (const d of deliveries) {
    const text = postedBody(d);
    const records = githubWebhookRecords({ text, json: JSON.parse(text), headers: new Headers(headersOf(d)), url: "" });
    for (const [stream, list] of await recordsToEnvelopes(
      { source, pattern: "webhook", receivedAt, runId: `wh-${d.guid}` },
      records,
      text,
    )) {
      out.push({
        kind: "bundle",
        v: 1,
        source,
        stream,
        pattern: "webhook",
        received_at: receivedAt,
        run_id: `wh-${d.guid}`,
        records: list,
      });
    }
  }
  return out;
}
