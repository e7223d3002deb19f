import { defineRestSource } from "../rest/define-rest-source";

export interface SheetRangeConfig {
  /** The source name (and raw-zone prefix), e.g. `budget_sheet`. */
  name: string;
  spreadsheetId: string;
  /** A1 notation, e.g. `Sheet1!A1:F`. */
  range: string;
  /** The env var holding a Google API key with the Sheets API enabled (the sheet shared to "anyone with the link"). */
  apiKeyEnv?: string;
}

/**
 * "A spreadsheet somebody swears is temporary": one Google Sheets range as a declarative REST
 * stream, refreshed whole every night into a snapshot with a manifest. The Sheets API answers
 * `{"range":…,"majorDimension":"ROWS","values":[[…],[…]]}`; each row (the header row included) is
 * a record kept byte for byte, keyed by its position in the range, so the lake sees the sheet
 * exactly as it was that night.
 */
export function sheetRange(config: SheetRangeConfig) {
  if (!/^[A-Za-z0-9_-]{10,}$/.test(config.spreadsheetId)) throw new Error(`${config.name}: spreadsheetId looks wrong`);
  return defineRestSource({
    name: config.name,
    title: `Google Sheets ${config.range}`,
    baseUrl: "https://sheets.googleapis.com",
    auth: { type: "api_key", in: "query", name: "key", key: { env: config.apiKeyEnv ?? "GOOGLE_SHEETS_API_KEY" } },
    rateLimit: { requests: 60, perSeconds: 60 },
    streams: [
      {
        name: "rows",
        path: `/v4/spreadsheets/${config.spreadsheetId}/values/${encodeURIComponent(config.range)}`,
        params: { majorDimension: "ROWS", valueRenderOption: "UNFORMATTED_VALUE", dateTimeRenderOption: "FORMATTED_STRING" },
        records: "values",
        // Rows have no id of their own: a row is its place in the range in tonight's snapshot.
        primaryKey: "0",
        pagination: { style: "none" },
        intervalMinutes: 0,
        fullRefresh: true,
      },
    ],
  });
}
