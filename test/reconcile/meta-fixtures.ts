import { LEAD_FIELDS, type Lead, leadsPage } from "../../src/sources/meta/fixtures";

/**
 * Graph's lead listing for reconciliation tests: `GET /{form-id}/leads` of the forms given, newest
 * first, `fields`, `limit` (≤ 100 here), an optional `filtering` on `time_created`, and opaque
 * `after` cursors. Requests are matched strictly (method, origin, path, bearer token, parameters);
 * anything else is answered 400 with Graph's error shape and noted in `violations`. `failOnCall`
 * answers that call (1-based) with Graph's transient error (code 2, 500).
 */
export function graphLeadsApi(origin: string, token: string, leads: () => readonly Lead[], opts: { failOnCall?: number } = {}) {
  const api = {
    calls: [] as URL[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      api.calls.push(url);
      const refuse = (why: string) => {
        api.violations.push(why);
        return graphError(400, 100, `(#100) ${why}`);
      };
      if (request.method !== "GET") return refuse(`method ${request.method}`);
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.headers.get("authorization") !== `Bearer ${token}`) return refuse("missing or wrong token");
      const path = /^\/(\d+)\/leads$/.exec(url.pathname);
      if (!path) return refuse(`unexpected path ${url.pathname}`);
      for (const k of url.searchParams.keys())
        if (!["fields", "limit", "filtering", "after"].includes(k)) return refuse(`unexpected parameter ${k}`);
      if (url.searchParams.get("fields") !== LEAD_FIELDS) return refuse(`fields ${url.searchParams.get("fields")}`);
      const limit = Number(url.searchParams.get("limit") ?? "25");
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) return refuse(`limit ${limit}`);
      let since = Number.NEGATIVE_INFINITY;
      const filtering = url.searchParams.get("filtering");
      if (filtering !== null) {
        const f = JSON.parse(filtering) as { field: string; operator: string; value: number }[];
        if (f.length !== 1 || f[0]?.field !== "time_created" || f[0].operator !== "GREATER_THAN" || !Number.isInteger(f[0].value)) {
          return refuse(`filtering ${filtering}`);
        }
        since = f[0].value;
      }
      if (api.calls.length === opts.failOnCall)
        return graphError(500, 2, "An unexpected error has occurred. Please retry your request later.");
      const form = path[1] as string;
      const matching = leads()
        .filter((l) => l.formId === form && l.createdTime > since)
        .sort((a, b) => b.createdTime - a.createdTime || (a.id < b.id ? 1 : -1));
      const after = url.searchParams.get("after");
      const start = after === null ? 0 : Number(atob(after).replace(/^offset:/, ""));
      if (!Number.isInteger(start)) return refuse(`after ${after}`);
      const slice = matching.slice(start, start + limit);
      const more = start + limit < matching.length;
      const cursor = (n: number) => btoa(`offset:${n}`);
      const next = more
        ? `${origin}/${form}/leads?access_token=${token}&fields=${LEAD_FIELDS}&limit=${limit}&after=${cursor(start + limit)}`
        : null;
      const body = leadsPage(slice, slice.length > 0 ? { before: cursor(start), after: cursor(start + slice.length) } : null, next);
      return new Response(body, { status: 200, headers: { "content-type": "application/json; charset=UTF-8" } });
    },
  };
  return api;
}

function graphError(status: number, code: number, message: string): Response {
  return Response.json({ error: { message, type: "OAuthException", code, fbtrace_id: "AbCdEfGh" } }, { status });
}
