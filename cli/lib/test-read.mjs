import { ApiError, api, splitStream, streamPath } from "./client.mjs";

/**
 * `dock test-read <source>.<stream>`: one page read by the Worker's poll engine and shown, never
 * landed (POST /admin/streams/:source/:stream/test-read). The envelopes go to stdout, one JSONL line
 * each, exactly as the raw zone would hold them; the summary (request, count, cursor, next page)
 * goes to stderr, so `dock test-read acme.invoices > page.jsonl` keeps only the records.
 */
export async function testRead(conn, name, o = {}) {
  const body = {};
  if (o.fullRefresh) body.pattern = "full_refresh";
  if (o.next !== undefined) {
    try {
      body.next = JSON.parse(o.next);
    } catch {
      throw new Error(`--next must be the JSON a test read printed after "next page:", got ${JSON.stringify(o.next)}`);
    }
  }
  if (o.fromStart) body.cursor = null;
  else if (o.cursor !== undefined) body.cursor = o.cursor;
  try {
    return await api(conn, "POST", `${streamPath(splitStream(name))}/test-read`, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.missing) && err.body.missing.length > 0) {
      const where = /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(conn.url)
        ? "in .dev.vars, then restart `npm start`"
        : "as Worker variables or secrets (wrangler secret put …)";
      throw new Error(`${err.message}\nset ${err.body.missing.join(", ")} ${where}`);
    }
    throw err;
  }
}

/** The summary a person reads: what was asked, what would land, where a run would go next. */
export function testReadSummary(r, name) {
  const perStream = Object.entries(r.streams ?? {})
    .map(([stream, n]) => `${r.source}.${stream}: ${n}`)
    .join(", ");
  const lines = [
    `${r.request}`,
    `${r.records} record${r.records === 1 ? "" : "s"} would land (${r.pattern}${perStream ? `; ${perStream}` : ""}) in ${r.ms} ms`,
  ];
  if (r.cursor) lines.push(`cursor: ${r.cursor.from ?? "(none stored)"} → ${r.cursor.to ?? "(none)"} after this page`);
  if (r.next_error) lines.push(`next page: cannot be followed: ${r.next_error}`);
  else if (r.next === null) lines.push("next page: none (this was the last page)");
  else lines.push(`next page: ${JSON.stringify(r.next)}  (dock test-read ${name} --next '${JSON.stringify(r.next)}')`);
  lines.push(`wrote ${r.wrote ?? "nothing"}`);
  return lines.join("\n");
}
