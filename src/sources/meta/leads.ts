import { PaginationError } from "../../pollers/pagination";
import type { NextPage, PageRequest, PaginationStyle, PollStream } from "../../pollers/types";
import { leadFormIds } from "./graph";

/** The lead fields asked for (Graph's Lead node); `created_time` is the version, `id` the key. */
export const LEAD_FIELDS = "id,created_time,form_id,ad_id,is_organic,platform,field_data";

interface LeadsPage {
  data?: unknown[];
  paging?: { cursors?: { after?: string }; next?: string };
}

/**
 * `GET /{form-id}/leads` for each form of META_LEAD_FORM_IDS in turn, one form after the other in
 * one run. With a cursor the engine's `since` (ISO, minus the lookback) becomes Graph's
 * `filtering=[{"field":"time_created","operator":"GREATER_THAN","value":<unix s>}]`. Pages follow
 * `paging.cursors.after` while Graph gives a `paging.next` (its `next` URL itself carries the
 * access token, so it is never stored). Where a run is: the form list it started with, the form's
 * index, and Graph's `after` cursor in it.
 */
export const formLeadsPages: PaginationStyle = {
  name: "meta_form_leads",
  first: (base, ctx) => {
    const forms = leadFormIds(ctx.env);
    if (forms.length === 0) throw new PaginationError("META_LEAD_FORM_IDS names no lead form");
    const since = base.query.since ? Date.parse(base.query.since) : Number.NaN;
    return formRequest(forms, 0, ctx.pageSize, Number.isFinite(since) ? Math.floor(since / 1000) : null);
  },
  next: (res, req): NextPage => {
    const at = positionOf(req);
    const json = res.json as LeadsPage;
    const after = json.paging?.cursors?.after;
    if (json.paging?.next && after) return { forms: at.forms, f: at.f, after };
    if (at.f + 1 < at.forms.split(",").length) return { forms: at.forms, f: at.f + 1 };
    return null;
  },
  apply: (first, next) => {
    const { since, limit } = positionOf(first);
    const f = Number(next.f);
    return formRequest(String(next.forms).split(","), f, limit, since, next.after === undefined ? undefined : String(next.after));
  },
};

/** Our own fields on a request (never sent): where in the form list it is. */
type FormRequest = PageRequest & { forms: string; f: number; since: number | null; limit: number };

function formRequest(forms: string[], f: number, limit: number, since: number | null, after?: string): FormRequest {
  const form = forms[f];
  if (form === undefined) throw new PaginationError(`lead form ${f} is past the ${forms.length} configured`);
  const query: Record<string, string> = { fields: LEAD_FIELDS, limit: String(limit) };
  if (since !== null) query.filtering = JSON.stringify([{ field: "time_created", operator: "GREATER_THAN", value: since }]);
  if (after !== undefined) query.after = after;
  return { url: `/${form}/leads`, query, forms: forms.join(","), f, since, limit };
}

function positionOf(req: PageRequest): { forms: string; f: number; since: number | null; limit: number } {
  const r = req as Partial<FormRequest>;
  if (typeof r.forms !== "string" || typeof r.f !== "number") throw new PaginationError("a lead page request lost its form position");
  return { forms: r.forms, f: r.f, since: r.since ?? null, limit: r.limit ?? 100 };
}

/**
 * Leads of the configured lead forms (Meta keeps them 90 days). A lead never changes after it is
 * submitted, so `created_time` is its version (with a digest of its bytes beside it). Graph documents
 * no order for a form's leads (they come newest first), so the cursor is not ascending: it moves when a run succeeds.
 */
export const metaLeadsStream: PollStream = {
  name: "leads",
  path: "/{form-id}/leads",
  records: "data",
  primaryKey: "id",
  cursor: { kind: "updated_at", field: "created_time", param: "since", lookbackSeconds: 300 },
  pagination: formLeadsPages,
  pageSize: 100,
  intervalMinutes: 60,
};
