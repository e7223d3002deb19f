import { scalarTextAt } from "../../pollers/json-path";
import type { PollStream, StepContext, StepRecord, StepResult } from "../../pollers/types";
import { customerId } from "./auth";
import { fillQuery, type GaqlReport, restatementDays, restatementWindow } from "./reports";
import { MalformedAnswer, searchPage } from "./search";

/** A report run's position: the window fixed at its start, the customers, which one, which page. */
interface ReportState {
  from: string;
  to: string;
  customers: string[];
  i: number;
  token?: string;
  pages: number;
}

/** GOOGLE_ADS_CUSTOMER_IDS: comma-separated ids, dashes allowed. */
export function customersFrom(env: Record<string, unknown>): string[] {
  const raw = typeof env.GOOGLE_ADS_CUSTOMER_IDS === "string" ? env.GOOGLE_ADS_CUSTOMER_IDS : "";
  return [
    ...new Set(
      raw
        .split(",")
        .filter((s) => s.trim() !== "")
        .map(customerId),
    ),
  ];
}

/**
 * A GAQL report as a nightly full refresh of its restatement window: each run pulls the trailing
 * window (GOOGLE_ADS_RESTATEMENT_DAYS, default 30) for every customer into its own snapshot
 * partition (`snapshot=<run id>`), so a day re-pulled tomorrow lands beside today's copy and
 * never over it. One step is one page of one customer.
 */
export function reportStream(report: GaqlReport): PollStream {
  return {
    name: report.name,
    path: "googleAds:search",
    records: "results",
    primaryKey: report.key,
    pagination: { style: "none" },
    intervalMinutes: 0,
    fullRefresh: true,
    steps: {
      step: async (ctx, raw) => {
        let state = raw as ReportState | undefined;
        if (!state) {
          const customers = customersFrom(ctx.env);
          if (customers.length === 0) return { next: "fail", error: "GOOGLE_ADS_CUSTOMER_IDS is not set: no customer to report on" };
          state = { ...restatementWindow(ctx.now(), restatementDays(ctx.env)), customers, i: 0, pages: 0 };
        }
        return reportPage(ctx, report, state);
      },
    },
  };
}

async function reportPage(ctx: StepContext, report: GaqlReport, state: ReportState): Promise<StepResult> {
  const customer = state.customers[state.i] as string;
  const where = `customer ${customer}, page ${state.pages + 1}`;
  let page: Awaited<ReturnType<typeof searchPage>>;
  try {
    page = await searchPage(ctx, customer, fillQuery(report.query, state), state.token);
  } catch (err) {
    if (err instanceof MalformedAnswer) return { next: "fail", error: `${report.name}, ${where}: ${err.message}` };
    throw err;
  }
  const records: StepRecord[] = [];
  for (const [n, span] of page.rows.entries()) {
    const parts = report.key.map((p) => scalarTextAt(page.text, span, p));
    if (parts.some((p) => p === undefined)) {
      return { next: "fail", error: `${report.name}, ${where}: row ${n} has no value at ${report.key.join(", ")} (its key)` };
    }
    records.push({ key: parts.join("|"), json: page.text.slice(span[0], span[1]) });
  }
  await ctx.emit(records);
  if (page.nextPageToken !== undefined) {
    if (page.nextPageToken === state.token)
      return { next: "fail", error: `${report.name}, ${where}: the same page token came back; stopping rather than looping` };
    return { next: "step", state: { ...state, token: page.nextPageToken, pages: state.pages + 1 } satisfies ReportState };
  }
  if (state.i + 1 < state.customers.length) {
    return { next: "step", state: { ...state, i: state.i + 1, token: undefined, pages: 0 } satisfies ReportState };
  }
  return { next: "done" };
}
