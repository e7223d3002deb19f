import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like Salesforce's REST (query, describe, errors), OAuth and Bulk API 2.0 answers. */
let counter = 0;
const V = "v62.0";

/** REST writes datetimes as `2026-11-25T07:00:00.000+0000`. */
export function restTime(iso: string): string {
  return iso.replace("Z", "+0000");
}

export function aSalesforceAccount(id = `001${String(++counter).padStart(15, "0")}`) {
  return new JsonBuilder({
    attributes: { type: "Account", url: `/services/data/${V}/sobjects/Account/${id}` },
    Id: id,
    Name: `Account ${id}`,
    IsDeleted: false as boolean,
    SystemModstamp: restTime("2026-11-25T07:00:00.000Z"),
  } as Record<string, unknown>);
}

export function modified<B extends JsonBuilder<Record<string, unknown>>>(b: B, iso: string): B {
  return b.with({ SystemModstamp: restTime(iso) });
}

/** A describe answer with these fields (type `string` unless given). */
export function describeBody(fields: (string | { name: string; type: string })[]): string {
  return JSON.stringify({
    name: "Account",
    fields: fields.map((f) => (typeof f === "string" ? { name: f, type: f === "Id" ? "id" : "string" } : f)),
  });
}

export function queryPage(records: { text(): string }[], next?: string): string {
  const more = next ? `,"nextRecordsUrl":"${next}"` : "";
  return `{"totalSize":${records.length},"done":${!next}${more},"records":${arrayText(records)}}`;
}

export function bulkJob(id: string, state: string, errorMessage?: string): string {
  return JSON.stringify({
    id,
    operation: "queryAll",
    object: "Account",
    createdById: "005000000000001AAA",
    state,
    concurrencyMode: "Parallel",
    contentType: "CSV",
    apiVersion: 62.0,
    lineEnding: "LF",
    columnDelimiter: "COMMA",
    ...(errorMessage ? { errorMessage } : {}),
  });
}

/** Bulk results: CSV with a header row, every value quoted as Salesforce writes them. */
export function bulkCsv(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(",");
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

export function salesforceError(errorCode: string, message: string): string {
  return JSON.stringify([{ message, errorCode }]);
}

export function tokenAnswer(accessToken: string, instanceUrl: string): string {
  return JSON.stringify({
    access_token: accessToken,
    instance_url: instanceUrl,
    id: "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA",
    token_type: "Bearer",
    issued_at: "1795590000000",
    signature: "c2lnbmF0dXJl",
  });
}
