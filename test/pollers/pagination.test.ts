import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { arrayPage, cursorPage, demoItems, linkedPage, linkHeader, listPage, numberedPage, offsetPage } from "../../demo/fixtures";
import { nextLink } from "../../src/pollers/pagination";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PaginationStyle, PollStream } from "../../src/pollers/types";
import { aSource, fakeClock, pollEnv, quietLogs, sentIds, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const items = demoItems(5);
const page1 = items.slice(0, 3);
const page2 = items.slice(3);

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

interface Case {
  name: string;
  stream: Partial<PollStream> & Pick<PollStream, "pagination">;
  vendor: (v: VendorMock) => void;
}

const escapeHatch: PaginationStyle = {
  name: "x-next-page header",
  first: (base, ctx) => ({ ...base, query: { ...base.query, size: String(ctx.pageSize) } }),
  next: (res) => (res.headers.get("x-next-page") ? { p: Number(res.headers.get("x-next-page")) } : null),
  apply: (first, next) => ({ ...first, query: { ...first.query, p: String(next.p) } }),
};

const cases: Case[] = [
  {
    name: "a next link in the body",
    stream: { records: "results", pagination: { style: "next_link", path: "links.next", limitParam: "limit" } },
    vendor: (v) =>
      v
        .on(`${BASE}?limit=3`, { body: linkedPage(page1, `${BASE}?limit=3&page_token=p2`) })
        .on(`${BASE}?limit=3&page_token=p2`, { body: linkedPage(page2, null) }),
  },
  {
    name: "an RFC 8288 Link header",
    stream: { records: "", pagination: { style: "link_header", limitParam: "per_page" } },
    vendor: (v) =>
      v
        .on(`${BASE}?per_page=3`, { body: arrayPage(page1), headers: linkHeader(`${BASE}?per_page=3&page=2`) })
        .on(`${BASE}?per_page=3&page=2`, { body: arrayPage(page2) }),
  },
  {
    name: "a cursor token",
    stream: {
      records: "data",
      pagination: { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" },
    },
    vendor: (v) =>
      v.on(`${BASE}?limit=3`, { body: cursorPage(page1, "tok2") }).on(`${BASE}?limit=3&cursor=tok2`, { body: cursorPage(page2, null) }),
  },
  {
    name: "starting_after the last id",
    stream: { records: "data", pagination: { style: "after_id", param: "starting_after", hasMorePath: "has_more", limitParam: "limit" } },
    vendor: (v) =>
      v
        .on(`${BASE}?limit=3`, { body: listPage(page1, true) })
        .on(`${BASE}?limit=3&starting_after=item_00003`, { body: listPage(page2, false) }),
  },
  {
    name: "ending_before the first id",
    stream: {
      records: "data",
      pagination: { style: "after_id", param: "ending_before", direction: "before", hasMorePath: "has_more", limitParam: "limit" },
    },
    vendor: (v) =>
      v
        .on(`${BASE}?limit=3`, { body: listPage(items.slice(2), true) })
        .on(`${BASE}?limit=3&ending_before=item_00003`, { body: listPage(items.slice(0, 2), false) }),
  },
  {
    name: "offset/limit with a total",
    stream: { records: "items", pagination: { style: "offset", totalPath: "total" } },
    vendor: (v) =>
      v.on(`${BASE}?limit=3&offset=0`, { body: offsetPage(page1, 5) }).on(`${BASE}?limit=3&offset=3`, { body: offsetPage(page2, 5) }),
  },
  {
    name: "offset/limit ending on a short page",
    stream: { records: "items", pagination: { style: "offset" } },
    vendor: (v) =>
      v.on(`${BASE}?limit=3&offset=0`, { body: offsetPage(page1, 0) }).on(`${BASE}?limit=3&offset=3`, { body: offsetPage(page2, 0) }),
  },
  {
    name: "page numbers with a page count",
    stream: { records: "data", pagination: { style: "page", totalPagesPath: "total_pages" } },
    vendor: (v) =>
      v
        .on(`${BASE}?per_page=3&page=1`, { body: numberedPage(page1, 1, 2) })
        .on(`${BASE}?per_page=3&page=2`, { body: numberedPage(page2, 2, 2) }),
  },
  {
    name: "a source's own style (the code escape hatch)",
    stream: { records: "", pagination: escapeHatch },
    vendor: (v) =>
      v
        .on(`${BASE}?size=3`, { body: arrayPage(page1), headers: { "x-next-page": "2" } })
        .on(`${BASE}?size=3&p=2`, { body: arrayPage(page2) }),
  },
];

describe("poll engine: pagination styles", () => {
  for (const c of cases) {
    it(`given ${c.name}, when the stream is polled, then both pages are read and every record is sent, with no other request`, async () => {
      const source = aSource(c.stream);
      const vendor = new VendorMock();
      c.vendor(vendor);
      vendor.install();
      const env = pollEnv();

      const out = await runPollStep(
        env,
        source,
        { kind: "poll", source: source.name, stream: "items" },
        { clock: fakeClock(), gate: openGate },
      );

      expect(vendor.unexpected).toEqual([]);
      expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 5 });
      expect(new Set(sentIds(env.INGEST)).size).toBe(5);
    });
  }

  it("given Link headers with several relations and odd spacing, then only rel=next is followed", () => {
    expect(nextLink('<https://x.test/a?page=1>; rel="prev", <https://x.test/a?page=3>; rel="next"')).toBe("https://x.test/a?page=3");
    expect(nextLink('<https://x.test/a?page=9>; rel="last"')).toBeNull();
    expect(nextLink("<https://x.test/n>;rel=next")).toBe("https://x.test/n");
    expect(nextLink(null)).toBeNull();
  });
});
