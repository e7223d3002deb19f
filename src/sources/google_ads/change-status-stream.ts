import { scalarTextAt } from "../../pollers/json-path";
import type { PollStream, StepContext, StepRecord, StepResult } from "../../pollers/types";
import { customersFrom } from "./report-stream";
import { MalformedAnswer, searchPage } from "./search";

/** change_status answers at most this many rows per query (LIMIT is required and capped). */
export const CHANGE_LIMIT = 10_000;
/** How far back change_status reaches; the filter must stay inside it (a margin under the API's 30 days). */
const MAX_DAYS_BACK = 29;
/** Changes can appear a few minutes late: each run starts this far before the last change seen. */
const LOOKBACK_MS = 10 * 60_000;

const QUERY =
  "SELECT change_status.resource_name, change_status.last_change_date_time, change_status.resource_type, change_status.resource_status, change_status.campaign, change_status.ad_group, change_status.ad_group_ad, change_status.ad_group_criterion, change_status.campaign_criterion FROM change_status WHERE change_status.last_change_date_time BETWEEN '{from}' AND '{to}' ORDER BY change_status.last_change_date_time LIMIT 10000";

/** The entity a change_status row is about, by its resource type (the row's own name otherwise). */
const ENTITY_FIELD: Record<string, string> = {
  CAMPAIGN: "changeStatus.campaign",
  AD_GROUP: "changeStatus.adGroup",
  AD_GROUP_AD: "changeStatus.adGroupAd",
  AD_GROUP_CRITERION: "changeStatus.adGroupCriterion",
  CAMPAIGN_CRITERION: "changeStatus.campaignCriterion",
};

/** Google Ads times are `yyyy-MM-dd HH:mm:ss[.ffffff]` in the account's time zone; arithmetic treats them as naive. */
function naiveMs(value: string): number {
  return Date.parse(`${value.replace(" ", "T").slice(0, 19)}Z`);
}
function naive(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Per-customer positions: the latest `last_change_date_time` seen, as the vendor wrote it. */
type Positions = Record<string, string>;

interface ChangeState {
  customers: string[];
  i: number;
  /** The lower bound of the current customer's next query (set when a query came back full). */
  from?: string;
  to: string;
  positions: Positions;
}

function parsePositions(cursor: string | null): Positions {
  if (!cursor) return {};
  try {
    const p = JSON.parse(cursor) as unknown;
    return p && typeof p === "object" && !Array.isArray(p) ? (p as Positions) : {};
  } catch {
    return {};
  }
}

/** Sorted keys, so the same positions are the same cursor text. */
function cursorText(p: Positions): string {
  return JSON.stringify(Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/**
 * Entity changes from `change_status`, per customer: the query is a finite range (≤ 29 days back)
 * ordered by time with LIMIT 10,000; a full answer is followed by another from its last time.
 * A row whose `resource_status` is REMOVED is a delete of that entity. The cursor is the latest
 * change time per customer (JSON), read back with a 10-minute overlap; repeats keep their id.
 */
export function changeStatusStream(): PollStream {
  return {
    name: "change_status",
    path: "googleAds:search",
    records: "results",
    primaryKey: "changeStatus.resourceName",
    pagination: { style: "none" },
    intervalMinutes: 15,
    steps: {
      step: async (ctx, raw) => {
        let state = raw as ChangeState | undefined;
        if (!state) {
          const customers = customersFrom(ctx.env);
          if (customers.length === 0) return { next: "fail", error: "GOOGLE_ADS_CUSTOMER_IDS is not set: no customer to read changes of" };
          // The upper bound is a day ahead: the account's zone is unknown here, and the range must be finite.
          state = { customers, i: 0, to: naive(ctx.now() + 86_400_000), positions: parsePositions(ctx.cursorFrom) };
        }
        return changePage(ctx, state);
      },
    },
  };
}

async function changePage(ctx: StepContext, state: ChangeState): Promise<StepResult> {
  const customer = state.customers[state.i] as string;
  const earliest = ctx.now() - MAX_DAYS_BACK * 86_400_000;
  const known = state.positions[customer];
  const from = state.from ?? naive(Math.max(earliest, known ? naiveMs(known) - LOOKBACK_MS : earliest));
  const query = QUERY.replace("{from}", from).replace("{to}", state.to);
  let page: Awaited<ReturnType<typeof searchPage>>;
  try {
    page = await searchPage(ctx, customer, query);
  } catch (err) {
    if (err instanceof MalformedAnswer) return { next: "fail", error: `change_status, customer ${customer}: ${err.message}` };
    throw err;
  }
  const records: StepRecord[] = [];
  let latest = known;
  for (const [n, span] of page.rows.entries()) {
    const at = (p: string) => scalarTextAt(page.text, span, p);
    const time = at("changeStatus.lastChangeDateTime");
    const type = at("changeStatus.resourceType") ?? "";
    const key = at(ENTITY_FIELD[type] ?? "changeStatus.resourceName") ?? at("changeStatus.resourceName");
    if (!time || !key)
      return { next: "fail", error: `change_status, customer ${customer}: row ${n} has no lastChangeDateTime or resource name` };
    const removed = at("changeStatus.resourceStatus") === "REMOVED";
    records.push({ key, version: time, op: removed ? "delete" : "upsert", json: page.text.slice(span[0], span[1]) });
    if (!latest || naiveMs(time) > naiveMs(latest) || (naiveMs(time) === naiveMs(latest) && time > latest)) latest = time;
  }
  await ctx.emit(records);
  const positions = latest ? { ...state.positions, [customer]: latest } : state.positions;
  const cursor = cursorText(positions);

  if (page.rows.length >= CHANGE_LIMIT && latest) {
    // A full answer: ask again from its last time (>=, so ties at the boundary are read again).
    const nextFrom = latest.slice(0, 19);
    if (nextFrom === from) {
      return {
        next: "fail",
        error: `change_status, customer ${customer}: more than ${CHANGE_LIMIT} changes at ${from}; cannot page past them`,
      };
    }
    return { next: "step", cursor, state: { ...state, from: nextFrom, positions } satisfies ChangeState };
  }
  if (state.i + 1 < state.customers.length) {
    return { next: "step", cursor, state: { ...state, i: state.i + 1, from: undefined, positions } satisfies ChangeState };
  }
  return { next: "done", cursor };
}
