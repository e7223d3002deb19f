import { restTime, salesforceError, tokenAnswer } from "../../src/sources/salesforce/fixtures";
import { ORG } from "../webhooks/cases";

export { seeded } from "../../src/lib/seeded";

export const OBJECT_TYPES = ["Account", "Contact", "Opportunity", "Lead"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];
const PREFIX: Record<ObjectType, string> = { Account: "001", Contact: "003", Opportunity: "006", Lead: "00Q" };
const V = "v62.0";
/** The fields each object's describe answers (plus a compound address the poll leaves out). */
export const FIELDS = ["Id", "Name", "IsDeleted", "SystemModstamp"];

/** A record of the org: every change it had (SystemModstamp, epoch ms), and when it was deleted. */
export interface OrgRecord {
  type: ObjectType;
  id: string;
  changes: number[];
  deletedAt?: number;
}

/** `count` records, types in turn, each changed once at `at(i)`; ids tagged with `tag` (18 characters). */
export function orgRecords(count: number, tag: string, at: (i: number) => number): OrgRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const type = OBJECT_TYPES[i % OBJECT_TYPES.length] as ObjectType;
    return { type, id: `${PREFIX[type]}${tag}${String(i).padStart(15 - tag.length, "0")}`, changes: [at(i)] };
  });
}

/** The SystemModstamp `queryAll` lists for a record: its deletion, else its last change. */
export function listedAt(r: OrgRecord): number {
  return r.deletedAt ?? (r.changes[r.changes.length - 1] as number);
}

const iso = (ms: number) => new Date(ms).toISOString();
const nameOf = (r: OrgRecord, change: number) => `${r.type} ${r.id} v${change + 1} & co`;

/** One notification as an outbound message sends it: its own Id, the sObject with the selected fields. */
export interface Notification {
  id: string;
  record: OrgRecord;
  change: number;
}

/** One notification per change of every record (deletions send none: outbound messages fire on create and update). */
export function notificationsOf(records: readonly OrgRecord[]): Notification[] {
  let n = 0;
  const out: Notification[] = [];
  for (const record of records)
    record.changes.forEach((_, change) => {
      out.push({ id: `04l${String(++n).padStart(12, "0")}NTF`, record, change });
    });
  return out;
}

/**
 * An outbound message as Salesforce's documented SOAP envelope carries it (up to 100
 * notifications of one object type), each sObject with the fields the message selects:
 * Id, Name and SystemModstamp (an xsd:dateTime in UTC).
 */
export function outboundMessage(notifications: readonly Notification[]): string {
  const body = notifications
    .map(
      (n) => `
   <Notification>
    <Id>${n.id}</Id>
    <sObject xsi:type="sf:${n.record.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>${n.record.id}</sf:Id>
     <sf:Name>${nameOf(n.record, n.change).replace("&", "&amp;")}</sf:Name>
     <sf:SystemModstamp>${iso(n.record.changes[n.change] as number)}</sf:SystemModstamp>
    </sObject>
   </Notification>`,
    )
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${ORG}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId>00D000000000062!AQ4AQLive.Session.Token</SessionId>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D000000000062</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D000000000062</PartnerUrl>${body}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

/** A record as REST `queryAll` returns it (its current state), fields in the SELECT's order. */
function queryRecord(r: OrgRecord): string {
  return JSON.stringify({
    attributes: { type: r.type, url: `/services/data/${V}/sobjects/${r.type}/${r.id}` },
    Id: r.id,
    Name: nameOf(r, r.changes.length - 1),
    IsDeleted: r.deletedAt !== undefined,
    SystemModstamp: restTime(iso(listedAt(r))),
  });
}

const QUERY =
  /^SELECT Id, Name, IsDeleted, SystemModstamp FROM (\w+) WHERE SystemModstamp >= (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) ORDER BY SystemModstamp, Id$/;

/**
 * The org's REST API as documented: OAuth refresh-token exchange, `sobjects/{type}/describe`,
 * `queryAll?q=` (deleted records included, IsDeleted=true) answering `{totalSize, done,
 * nextRecordsUrl?, records}` in batches of `batch`, the rest by `GET nextRecordsUrl`
 * (`/services/data/vXX.X/query/<locator>-<n>`). Requests are matched strictly (method, origin,
 * path, bearer token, the exact SOQL); anything else is answered 400 and noted in `violations`.
 * From call `failFromCall` on (1-based, API calls after the token) every answer is a 500.
 */
export function salesforceOrgApi(
  origin: string,
  records: () => readonly OrgRecord[],
  opts: { batch?: number; failFromCall?: number } = {},
) {
  const token = "00D000000000062!access-reconcile";
  const batch = opts.batch ?? 400;
  const cursors = new Map<string, { type: string; rows: string[] }>();
  const api = {
    calls: [] as URL[],
    soql: [] as string[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      api.calls.push(url);
      const refuse = (why: string) => {
        api.violations.push(why);
        return new Response(salesforceError("MALFORMED_QUERY", why), { status: 400 });
      };
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (url.pathname === "/login/services/oauth2/token" && request.method === "POST") {
        const form = new URLSearchParams(await request.text());
        if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== "5Aep861-reconcile")
          return refuse("bad token exchange");
        return new Response(tokenAnswer(token, "https://acme.my.salesforce.com"), { headers: { "content-type": "application/json" } });
      }
      if (request.method !== "GET") return refuse(`method ${request.method} ${url.pathname}`);
      if (request.headers.get("authorization") !== `Bearer ${token}`) return refuse("missing or wrong access token");
      const apiCalls = api.calls.filter((u) => !u.pathname.startsWith("/login/")).length;
      if (opts.failFromCall && apiCalls >= opts.failFromCall)
        return new Response(salesforceError("UNKNOWN_EXCEPTION", "An unexpected error occurred."), { status: 500 });
      const json = (body: string) => new Response(body, { headers: { "content-type": "application/json;charset=UTF-8" } });
      const describe = new RegExp(`^/services/data/${V}/sobjects/(\\w+)/describe$`).exec(url.pathname);
      if (describe) {
        if ([...url.searchParams.keys()].length) return refuse("describe with parameters");
        return json(
          JSON.stringify({
            name: describe[1],
            fields: [
              ...FIELDS.map((name) => ({ name, type: name === "Id" ? "id" : "string" })),
              { name: "MailingAddress", type: "address" },
            ],
          }),
        );
      }
      const page = (type: string, rows: string[], locator: string, offset: number) => {
        const next = offset + batch < rows.length ? `/services/data/${V}/query/${locator}-${offset + batch}` : undefined;
        if (next) cursors.set(locator, { type, rows });
        const more = next ? `,"nextRecordsUrl":"${next}"` : "";
        return json(`{"totalSize":${rows.length},"done":${!next}${more},"records":[${rows.slice(offset, offset + batch).join(",")}]}`);
      };
      if (url.pathname === `/services/data/${V}/queryAll`) {
        const q = url.searchParams.get("q") ?? "";
        if ([...url.searchParams.keys()].join() !== "q") return refuse("queryAll takes q only");
        const m = QUERY.exec(q);
        if (!m) return refuse(`unexpected SOQL ${q}`);
        api.soql.push(q);
        const since = Date.parse(m[2] as string);
        const rows = records()
          .filter((r) => r.type === m[1] && listedAt(r) >= since)
          .sort((a, b) => listedAt(a) - listedAt(b) || (a.id < b.id ? -1 : 1))
          .map(queryRecord);
        return page(m[1] as string, rows, `01gRC${String(api.soql.length).padStart(10, "0")}`, 0);
      }
      const more = new RegExp(`^/services/data/${V}/query/(01gRC\\d{10})-(\\d+)$`).exec(url.pathname);
      const cursor = more ? cursors.get(more[1] as string) : undefined;
      if (more && cursor) return page(cursor.type, cursor.rows, more[1] as string, Number(more[2]));
      return refuse(`unexpected ${url.pathname}${url.search}`);
    },
  };
  return api;
}
