import { env as workerEnv } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { snapshotManifestKey, snapshotPrefix } from "../../src/envelope/raw-keys";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { sheetRange } from "../../src/sources/google_sheets/define-sheet-range";
import { readLines } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, pollEnv, quietLogs } from "../pollers/helpers";

const SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEF";

/** The Sheets API's answer for a range, as documented (ValueRange, majorDimension ROWS). */
function aValueRange(rows: string[]): string {
  return `{\n  "range": "Budget!A1:D${rows.length}",\n  "majorDimension": "ROWS",\n  "values": [\n    ${rows.join(",\n    ")}\n  ]\n}\n`;
}

describe("Google Sheets range (a declarative REST stream, refreshed whole)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("given a sheet with a header row, ids, big numbers and a blank cell, when refreshed, then every row lands verbatim in a snapshot with a manifest", async () => {
    quietLogs();
    const rows = [
      '["id", "item", "amount", "note"]',
      '[1, "rent", 1200.5, ""]',
      '[2, "servers", 9007199254740993, "big"]',
      '[3, "coffee", 4]',
    ];
    const requests: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const url = String(input instanceof Request ? input.url : input);
      requests.push(url);
      return new Response(aValueRange(rows), { headers: { "content-type": "application/json" } });
    });
    const source = sheetRange({ name: "budget_sheet", spreadsheetId: SHEET, range: "Budget!A1:D" });
    const env = pollEnv({ GOOGLE_SHEETS_API_KEY: "AIza-test-key" });
    const job = { kind: "full_refresh" as const, source: "budget_sheet", stream: "rows", run_id: "fr-sheet-1" };

    const out = await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate });
    await deliverIngest(env.INGEST);
    await deliverIngest(env.INGEST);

    expect(out).toMatchObject({ status: "succeeded", records: 4 });
    const url = new URL(requests[0] as string);
    expect(decodeURIComponent(url.pathname)).toBe(`/v4/spreadsheets/${SHEET}/values/Budget!A1:D`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      key: "AIza-test-key",
      majorDimension: "ROWS",
      valueRenderOption: "UNFORMATTED_VALUE",
      dateTimeRenderOption: "FORMATTED_STRING",
    });
    const lines = await readLines(snapshotPrefix("budget_sheet", "rows", "fr-sheet-1"));
    expect(lines.map((l) => l.slice(l.indexOf('"data":') + 7, -1)).sort()).toEqual([...rows].sort());
    expect(lines.some((l) => l.includes("9007199254740993"))).toBe(true);
    const manifest = JSON.parse(
      (await (await workerEnv.RAW.get(snapshotManifestKey("budget_sheet", "rows", "fr-sheet-1")))?.text()) as string,
    );
    expect(manifest).toMatchObject({ complete: true, row_count: 4 });
  });

  it("given a row without an id in the first column, then the refresh fails at that page and names the key", async () => {
    quietLogs();
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(aValueRange(['["id", "item"]', "[]"])));
    const source = sheetRange({ name: "gappy_sheet", spreadsheetId: SHEET, range: "A1:B" });
    const out = await runPollStep(
      pollEnv({ GOOGLE_SHEETS_API_KEY: "k" }),
      source,
      { kind: "full_refresh", source: "gappy_sheet", stream: "rows", run_id: "fr-gap" },
      { clock: fakeClock(), gate: openGate },
    );
    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/record 1 has no value at 0/);
  });

  it("refuses a spreadsheet id that cannot be one", () => {
    expect(() => sheetRange({ name: "x_sheet", spreadsheetId: "../../etc", range: "A1:B" })).toThrow(/spreadsheetId/);
  });
});
