import { defineRestSource } from "../rest/define-rest-source";

/**
 * The demo vendor (demo/app.ts) as a declarative REST source: no code, only data. It is polled
 * only where DEMO_VENDOR_URL is set (local dev, `npm start`); the token comes from DEMO_VENDOR_TOKEN.
 */
export const demo = defineRestSource({
  name: "demo",
  title: "Demo vendor (local fake API for the polling pattern)",
  baseUrl: { env: "DEMO_VENDOR_URL" },
  auth: { type: "bearer", token: { env: "DEMO_VENDOR_TOKEN" } },
  rateLimit: { requests: 10, perSeconds: 1 },
  streams: [
    {
      name: "items",
      path: "/v1/items",
      records: "data",
      primaryKey: "id",
      // The demo's page token is an offset: keyset continuation keeps rows edited mid-run from being skipped.
      cursor: { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 60, ascending: true, keyset: true },
      pagination: { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" },
      pageSize: 100,
      intervalMinutes: 5,
    },
    {
      name: "customers",
      path: "/v1/customers",
      records: "data",
      primaryKey: "id",
      pagination: { style: "after_id", param: "starting_after", hasMorePath: "has_more", limitParam: "limit" },
      pageSize: 100,
    },
    {
      name: "orders",
      path: "/v1/orders",
      records: "",
      primaryKey: "id",
      pagination: { style: "link_header", limitParam: "per_page" },
      pageSize: 100,
    },
    {
      name: "plans",
      path: "/v1/plans",
      records: "items",
      primaryKey: "id",
      pagination: { style: "offset", totalPath: "total" },
      pageSize: 50,
      intervalMinutes: 0,
      fullRefresh: true,
    },
  ],
});
