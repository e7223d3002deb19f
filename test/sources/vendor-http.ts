import { vi } from "vitest";

/** What the fake vendor answers. */
export interface Reply {
  status?: number;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** What a request must be to match: method, URL (path and the whole query), body (JSON-equal) and headers. */
export interface Expect {
  method?: "GET" | "POST";
  url: string;
  /** JSON the body must equal (parsed on both sides), or a form / text body compared as is. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

interface Route {
  expect: Expect;
  replies: (Reply | ((req: Request) => Reply))[];
  hits: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

function canonical(url: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${u.origin}${u.pathname}?${params.map(([k, v]) => `${k}=${v}`).join("&")}`;
}

function sameJson(text: string, expected: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(expected);
  } catch {
    return false;
  }
}

/**
 * A vendor's HTTP API, strictly: a request matches a route only when method, path, every query
 * parameter, the body and the named headers all match. Anything else is recorded in `unexpected`
 * and answered 418, which fails the run, so no test passes on a request it did not expect.
 * Routes answer their replies in order (the last one repeats).
 */
export class StrictVendor {
  readonly routes: Route[] = [];
  readonly requests: SeenRequest[] = [];
  readonly unexpected: string[] = [];

  on(expect: Expect | string, ...replies: (Reply | ((req: Request) => Reply))[]): this {
    this.routes.push({ expect: typeof expect === "string" ? { url: expect } : expect, replies, hits: 0 });
    return this;
  }

  /** How often the route whose URL is `url` was answered. */
  hits(url: string): number {
    return this.routes.filter((r) => canonical(r.expect.url) === canonical(url)).reduce((n, r) => n + r.hits, 0);
  }

  install() {
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input as RequestInfo, init);
      const body = req.method === "GET" ? "" : new TextDecoder().decode(await req.clone().arrayBuffer());
      this.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const route = this.routes.find((r) => this.matches(r.expect, req, body));
      if (!route) {
        this.unexpected.push(`${req.method} ${req.url} ${body.slice(0, 300)}`);
        return new Response("unexpected request", { status: 418 });
      }
      const reply = route.replies[Math.min(route.hits, route.replies.length - 1)];
      route.hits++;
      const r = typeof reply === "function" ? reply(req) : (reply as Reply);
      const type = r.body instanceof Uint8Array ? "application/zip" : "application/json";
      return new Response(r.body ?? "", { status: r.status ?? 200, headers: { "content-type": type, ...r.headers } });
    });
  }

  private matches(e: Expect, req: Request, body: string): boolean {
    if ((e.method ?? "GET") !== req.method) return false;
    if (canonical(e.url) !== canonical(req.url)) return false;
    if (e.json !== undefined && !sameJson(body, e.json)) return false;
    if (e.text !== undefined && body !== e.text) return false;
    if (e.json === undefined && e.text === undefined && body !== "") return false;
    for (const [name, value] of Object.entries(e.headers ?? {})) if (req.headers.get(name) !== value) return false;
    return true;
  }
}
