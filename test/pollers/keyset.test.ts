import { afterEach, describe, expect, it, vi } from "vitest";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, pollEnv, quietLogs } from "./helpers";

/**
 * Regression for a loss the soak found: a vendor whose page token is an offset, and a row updated
 * while a run pages through the list. The update moves the row to the end; every later row shifts
 * down by one, and the row at the page boundary is never served. Keyset continuation cannot skip.
 */
function offsetTokenVendor(count: number, touchAfterRequest: number) {
  const items = Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(3, "0")}`,
    updated_at: new Date(Date.UTC(2026, 10, 20, 0, 0, i)).toISOString(),
  }));
  let requests = 0;
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    requests++;
    const since = url.searchParams.get("updated_since");
    const offset = Number(url.searchParams.get("cursor") ?? "0");
    const limit = Number(url.searchParams.get("limit"));
    const list = items
      .filter((it) => !since || it.updated_at >= since)
      .sort((a, b) => (a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : a.id < b.id ? -1 : 1));
    const page = list.slice(offset, offset + limit);
    const more = offset + limit < list.length;
    const body = JSON.stringify({ data: page, has_more: more, next_cursor: more ? String(offset + limit) : null });
    if (requests === touchAfterRequest) {
      const first = items[0] as { updated_at: string };
      first.updated_at = new Date(Date.UTC(2026, 10, 21)).toISOString(); // r000 edited after it was served: it moves to the end
    }
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
}

function source(name: string, keyset: boolean): PollSource {
  return {
    name,
    baseUrl: "https://api.vendor.test",
    streams: [
      {
        name: "rows",
        path: "/v1/rows",
        records: "data",
        primaryKey: "id",
        pageSize: 10,
        cursor: { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 0, ascending: true, keyset },
        pagination: { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" },
      },
    ],
  };
}

async function runToEnd(src: PollSource) {
  const env = pollEnv();
  const outcome = await runPollStep(env, src, { kind: "poll", source: src.name, stream: "rows" }, { budget: { pages: 100 } });
  await deliverIngest(env.INGEST);
  const keys = new Set((await readEnvelopes(`raw/source=${src.name}/`)).map((e) => e._dock.key));
  return { outcome, keys };
}

describe("keyset continuation (cursor.keyset)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("given offset page tokens and a row edited mid-run, when the run follows the tokens, then the row at the boundary is skipped", async () => {
    quietLogs();
    offsetTokenVendor(30, 1);
    const { outcome, keys } = await runToEnd(source("offset_vendor", false));
    expect(outcome.status).toBe("succeeded");
    expect(keys.has("r010")).toBe(false); // the vendor's offsets skipped it: the loss keyset prevents
    expect(keys.size).toBe(29);
  });

  it("given the same vendor, when the run continues by keyset, then every row lands (the edited one included)", async () => {
    quietLogs();
    const spy = offsetTokenVendor(30, 1);
    const { outcome, keys } = await runToEnd(source("keyset_vendor", true));
    expect(outcome.status).toBe("succeeded");
    expect(keys.size).toBe(30);
    const urls = spy.mock.calls.map(([input]) => new URL(String(input instanceof Request ? input.url : input)));
    expect(urls[1]?.searchParams.get("updated_since")).toBe("2026-11-20T00:00:09.000Z");
    expect(urls[1]?.searchParams.has("cursor")).toBe(false);
  });

  it("given a page whose rows all share one timestamp, then the vendor's token carries the run past the tie, from the same query", async () => {
    quietLogs();
    const ties = Array.from({ length: 25 }, (_, i) => ({
      id: `t${String(i).padStart(2, "0")}`,
      updated_at: i < 22 ? "2026-11-20T00:00:00.000Z" : `2026-11-20T00:00:0${i - 21}.000Z`,
    }));
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const since = url.searchParams.get("updated_since");
      const offset = Number(url.searchParams.get("cursor") ?? "0");
      const list = ties.filter((t) => !since || t.updated_at >= since);
      const page = list.slice(offset, offset + 10);
      const more = offset + 10 < list.length;
      return new Response(JSON.stringify({ data: page, has_more: more, next_cursor: more ? String(offset + 10) : null }));
    });
    const { outcome, keys } = await runToEnd(source("tie_vendor", true));
    expect(outcome.status).toBe("succeeded");
    expect(keys.size).toBe(25);
    const queries = spy.mock.calls.map(([input]) => new URL(String(input instanceof Request ? input.url : input)).search);
    expect(queries.length).toBeLessThan(10);
  });
});
