import { Hono } from "hono";
import { seeded } from "../src/lib/seeded";
import {
  arrayPage,
  cursorPage,
  DEMO_TOKEN,
  type DemoItem,
  decodeToken,
  demoItems,
  encodeToken,
  linkHeader,
  listPage,
  offsetPage,
  sortItems,
  updatedSince,
} from "./fixtures";

export interface DemoVendorOptions {
  /** Items in /v1/items (default 1000). */
  items?: number;
  /** Customers in /v1/customers (default 300). */
  customers?: number;
  /** Plans in /v1/plans, the full-refresh table (default 120). */
  plans?: number;
  /** Published cap: requests per window (default 10 per 1 s); over it, 429 with Retry-After. */
  cap?: { requests: number; perSeconds: number };
  /** false: over-cap 429s carry no Retry-After (a burst limiter), so clients fall back to their backoff. */
  capRetryAfter?: boolean;
  /** The last `length` of every `every` requests get 429 with Retry-After: 1 (default 3 of 200; every: 0 = never). */
  burst429?: { every: number; length: number };
  /** Share of requests answered 503 (default 0.01). */
  failRate?: number;
  /** The bearer token the API accepts. */
  token?: string;
  /** Touch `touchPerMinute` random items a minute (new updated_at), so polls find changes. */
  touchPerMinute?: number;
  /** Deterministic randomness for 503s and touches. */
  seed?: number;
  /** Answer every request 429 until this time (ms since epoch): a storm, for the benchmark. */
  stormUntil?: number;
  now?: () => number;
}

export interface DemoVendorStats {
  requests: number;
  ok: number;
  throttled: number;
  /** 429s that were not part of a scripted burst or storm: the client went over the cap. */
  overCap: number;
  unavailable: number;
  unauthorized: number;
  /** Times (ms) of the recent requests answered 200 (the last 10,000–20,000), for window checks. */
  okTimes: number[];
}

/** The demo vendor as a Hono app (runs on Node via demo/server.ts, or anywhere Hono runs). */
export function createDemoVendor(options: DemoVendorOptions = {}) {
  const now = options.now ?? Date.now;
  const random = seeded(options.seed ?? 42);
  const cap = options.cap ?? { requests: 10, perSeconds: 1 };
  const token = options.token ?? DEMO_TOKEN;
  const items: DemoItem[] = demoItems(options.items ?? 1000);
  const customers = demoItems(options.customers ?? 300, 1, "cus");
  const plans = demoItems(options.plans ?? 120, 1000, "plan");
  const stats: DemoVendorStats = { requests: 0, ok: 0, throttled: 0, overCap: 0, unavailable: 0, unauthorized: 0, okTimes: [] };
  const window: number[] = [];
  let lastTouch = now();

  const touch = () => {
    const perMinute = options.touchPerMinute ?? 0;
    const due = Math.floor(((now() - lastTouch) / 60_000) * perMinute);
    if (due <= 0) return;
    lastTouch = now();
    for (let i = 0; i < due; i++) {
      const index = Math.floor(random() * items.length);
      const item = items[index] as DemoItem;
      items[index] = { ...item, updated_at: new Date(now()).toISOString() };
    }
  };

  const app = new Hono();
  app.get("/_stats", (c) => c.json(stats));
  app.use("/v1/*", async (c, next) => {
    stats.requests++;
    const t = now();
    const retryAfter = (ms: number) => ({ "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) });
    if (options.stormUntil && t < options.stormUntil) {
      stats.throttled++;
      return c.json({ error: "rate_limited", message: "storm" }, 429, retryAfter(options.stormUntil - t));
    }
    const burst = options.burst429 === undefined ? { every: 200, length: 3 } : options.burst429;
    if (burst.every > 0 && stats.requests % burst.every >= burst.every - burst.length) {
      stats.throttled++;
      return c.json({ error: "rate_limited", message: "burst" }, 429, retryAfter(1000));
    }
    const windowMs = cap.perSeconds * 1000;
    while (window.length > 0 && (window[0] as number) <= t - windowMs) window.shift();
    if (window.length >= cap.requests) {
      stats.throttled++;
      stats.overCap++;
      const wait = (window[0] as number) + windowMs - t;
      const headers: Record<string, string> =
        options.capRetryAfter === false ? {} : { ...retryAfter(wait), "ratelimit-reset": String(Math.max(1, Math.ceil(wait / 1000))) };
      return c.json({ error: "rate_limited", message: `over ${cap.requests} per ${cap.perSeconds}s` }, 429, headers);
    }
    window.push(t);
    if (c.req.header("authorization") !== `Bearer ${token}`) {
      stats.unauthorized++;
      return c.json({ error: "unauthorized" }, 401);
    }
    if (random() < (options.failRate ?? 0.01)) {
      stats.unavailable++;
      return c.json({ error: "unavailable" }, 503);
    }
    touch();
    await next();
    if (c.res.status === 200) {
      stats.ok++;
      stats.okTimes.push(t);
      if (stats.okTimes.length > 20_000) stats.okTimes.splice(0, 10_000);
    }
  });

  const limitOf = (value: string | undefined, fallback: number) => Math.min(Math.max(Number(value ?? fallback) || fallback, 1), 500);

  // Cursor token pagination, incremental by updated_at (>=), sorted by updated_at then id.
  app.get("/v1/items", (c) => {
    const limit = limitOf(c.req.query("limit"), 100);
    const since = c.req.query("updated_since") ?? null;
    if (since !== null && Number.isNaN(Date.parse(since))) return c.json({ error: "bad updated_since" }, 400);
    const list = sortItems(updatedSince(items, since ? new Date(since).toISOString() : null));
    const cursor = c.req.query("cursor");
    const start = cursor ? decodeToken(cursor) : 0;
    if (start === null) return c.json({ error: "bad cursor" }, 400);
    const page = list.slice(start, start + limit);
    const more = start + limit < list.length;
    return c.body(cursorPage(page, more ? encodeToken(start + limit) : null), 200, { "content-type": "application/json" });
  });

  // starting_after by id (Stripe-like lists).
  app.get("/v1/customers", (c) => {
    const limit = limitOf(c.req.query("limit"), 10);
    const after = c.req.query("starting_after");
    const start = after ? customers.findIndex((x) => x.id === after) + 1 : 0;
    if (after && start === 0) return c.json({ error: `no such customer: ${after}` }, 400);
    const page = customers.slice(start, start + limit);
    return c.body(listPage(page, start + limit < customers.length), 200, { "content-type": "application/json" });
  });

  // Link header pagination over a bare array (GitHub-like), page numbers inside the link.
  app.get("/v1/orders", (c) => {
    const perPage = limitOf(c.req.query("per_page"), 30);
    const page = Math.max(1, Number(c.req.query("page") ?? 1) || 1);
    const start = (page - 1) * perPage;
    const slice = customers.slice(start, start + perPage);
    const url = new URL(c.req.url);
    url.searchParams.set("page", String(page + 1));
    url.searchParams.set("per_page", String(perPage));
    const next = start + perPage < customers.length ? url.toString() : null;
    return c.body(arrayPage(slice), 200, { "content-type": "application/json", ...linkHeader(next) });
  });

  // Offset/limit with a total: the small table behind the nightly full refresh.
  app.get("/v1/plans", (c) => {
    const limit = limitOf(c.req.query("limit"), 50);
    const offset = Math.max(0, Number(c.req.query("offset") ?? 0) || 0);
    return c.body(offsetPage(plans.slice(offset, offset + limit), plans.length), 200, { "content-type": "application/json" });
  });

  return { app, stats };
}
