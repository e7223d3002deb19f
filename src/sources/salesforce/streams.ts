import { DeferRun, PollFailure } from "../../pollers/http";
import type { PageRequest, PollStream, StepContext, StepResult } from "../../pollers/types";
import { streamName } from "../webhook-helpers";
import { apiVersion } from "./auth";
import { csvRecords, restRecords } from "./records";

/** The objects polled unless a deployment passes its own list to `salesforceStreams`. */
export const DEFAULT_OBJECTS = ["Account", "Contact", "Opportunity", "Lead"] as const;

/** Rows per Bulk results request (one step each). */
const BULK_PAGE_ROWS = 10_000;
const LOOKBACK_MS = 5 * 60_000;

type State =
  | undefined
  | { phase: "rest"; fields: string[]; next?: string }
  | { phase: "bulk_create"; fields: string[] }
  | { phase: "bulk_wait"; fields: string[]; job: string; polls: number }
  | { phase: "bulk_results"; fields: string[]; job: string; locator?: string; latest?: string };

/** Compound fields (address, location) cannot be selected by Bulk queries; their components can. */
const COMPOUND = new Set(["address", "location"]);

function soqlTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/**
 * One object as a stepped stream. Every run first describes the object (its field list, so a new
 * custom field is picked up). A first load (no cursor yet) runs as a Bulk API 2.0 `queryAll` job:
 * create it, poll it with delayed continuations (no Worker waits), then page its CSV results by
 * `Sforce-Locator`; its rows are unordered, so the cursor is set once, when the job is read to the
 * end. Afterwards every run is a REST `queryAll` from the cursor minus 5 minutes, ordered by
 * `SystemModstamp, Id`, following `nextRecordsUrl`, the cursor checkpointed per page. queryAll
 * returns deleted rows (`IsDeleted = true`): they land as deletes. A failed Bulk job fails the run
 * naming the job id.
 */
export function salesforceObjectStream(object: string, opts: { bulkFirstLoad?: boolean } = {}): PollStream {
  const bulkFirstLoad = opts.bulkFirstLoad ?? true;
  return {
    // The same stream as the outbound-message webhook files this object under (`Account` → `account`).
    name: streamName(object, false),
    path: `/sobjects/${object}`,
    records: "records",
    primaryKey: "Id",
    pagination: { style: "none" },
    intervalMinutes: 15,
    steps: {
      // The cursor is a SystemModstamp: the next REST run asks from it (minus the lookback).
      cursorAt: (at) => at.toISOString(),
      // From a cursor the REST queryAll is ordered by SystemModstamp: a reconciliation stops past its window.
      ascending: true,
      async step(ctx, raw): Promise<StepResult> {
        try {
          return await objectStep(ctx, raw as State, object, bulkFirstLoad);
        } catch (err) {
          // The engine's own signals (a failed or throttled request, a deferral) go to the runner;
          // anything else is a page we could not read: the run fails saying where, the cursor stays.
          if (err instanceof PollFailure || err instanceof DeferRun) throw err;
          return { next: "fail", error: `${object} (${phaseOf(raw as State)}): ${(err as Error).message}` };
        }
      },
    },
  };
}

function phaseOf(state: State): string {
  return state === undefined ? "describe" : state.phase;
}

async function objectStep(ctx: StepContext, state: State, object: string, bulkFirstLoad: boolean): Promise<StepResult> {
  const v = `/services/data/${apiVersion(ctx.env)}`;
  if (state === undefined) {
    const fields = await describe(ctx, v, object);
    const bulk = bulkFirstLoad && (ctx.cursorFrom === null || ctx.pattern === "full_refresh");
    return { next: "step", state: bulk ? { phase: "bulk_create", fields } : { phase: "rest", fields } };
  }
  switch (state.phase) {
    case "rest":
      return restPage(ctx, v, object, state);
    case "bulk_create": {
      const { text } = await ctx.fetch({
        url: `${v}/jobs/query`,
        query: {},
        method: "POST",
        body: JSON.stringify({ operation: "queryAll", query: `SELECT ${state.fields.join(", ")} FROM ${object}` }),
      });
      const job = JSON.parse(text) as { id?: unknown };
      if (typeof job.id !== "string") return { next: "fail", error: `Bulk API 2.0 answered a job without an id: ${text.slice(0, 200)}` };
      ctx.log("info", "salesforce.bulk_job_created", { job: job.id, object });
      return { next: "later", delayMs: 5_000, state: { phase: "bulk_wait", fields: state.fields, job: job.id, polls: 0 } };
    }
    case "bulk_wait": {
      const { text } = await ctx.fetch({ url: `${v}/jobs/query/${state.job}`, query: {} });
      const info = JSON.parse(text) as { state?: string; errorMessage?: string };
      if (info.state === "JobComplete") return { next: "step", state: { phase: "bulk_results", fields: state.fields, job: state.job } };
      if (info.state === "Failed" || info.state === "Aborted") {
        return {
          next: "fail",
          error: `Bulk API 2.0 query job ${state.job} (${object}) ended ${info.state}: ${info.errorMessage ?? "no errorMessage"}`,
        };
      }
      const delayMs = Math.min(5 * 60_000, 5_000 * 2 ** Math.min(state.polls, 6));
      return { next: "later", delayMs, state: { ...state, polls: state.polls + 1 } };
    }
    case "bulk_results": {
      const query: Record<string, string> = { maxRecords: String(BULK_PAGE_ROWS) };
      if (state.locator) query.locator = state.locator;
      const page = await ctx.fetch({ url: `${v}/jobs/query/${state.job}/results`, query, headers: { accept: "text/csv" } });
      const batch = csvRecords(page.text);
      await ctx.emit(batch.records);
      const latest = [state.latest, batch.latest]
        .filter((s): s is string => !!s)
        .sort()
        .pop();
      const locator = page.headers.get("sforce-locator");
      if (!locator || locator === "null") return { next: "done", cursor: ctx.pattern === "poll" ? latest : undefined };
      return { next: "step", state: { ...state, locator, latest } };
    }
  }
}

async function describe(ctx: StepContext, v: string, object: string): Promise<string[]> {
  const { text } = await ctx.fetch({ url: `${v}/sobjects/${object}/describe`, query: {} });
  const described = JSON.parse(text) as { fields?: { name?: string; type?: string }[] };
  const fields = (described.fields ?? [])
    .filter((f) => typeof f.name === "string" && !COMPOUND.has(f.type ?? ""))
    .map((f) => f.name as string);
  for (const needed of ["Id", "SystemModstamp", "IsDeleted"]) {
    if (!fields.includes(needed)) throw new Error(`${object} has no ${needed} field; it cannot be polled incrementally`);
  }
  return fields;
}

async function restPage(ctx: StepContext, v: string, object: string, state: { fields: string[]; next?: string }): Promise<StepResult> {
  let request: PageRequest;
  if (state.next) request = { url: state.next, query: {} };
  else {
    const since = ctx.cursorFrom ? soqlTime(new Date(Date.parse(ctx.cursorFrom) - LOOKBACK_MS).toISOString()) : null;
    const where = since ? ` WHERE SystemModstamp >= ${since}` : "";
    request = {
      url: `${v}/queryAll`,
      query: { q: `SELECT ${state.fields.join(", ")} FROM ${object}${where} ORDER BY SystemModstamp, Id` },
    };
  }
  const page = await ctx.fetch(request);
  const body = JSON.parse(page.text) as { done?: boolean; nextRecordsUrl?: string };
  const batch = restRecords(page.text);
  await ctx.emit(batch.records);
  if (body.done !== false || !body.nextRecordsUrl) return { next: "done", cursor: batch.latest };
  return { next: "step", state: { phase: "rest", fields: state.fields, next: body.nextRecordsUrl }, cursor: batch.latest };
}

export function salesforceStreams(objects: readonly string[] = DEFAULT_OBJECTS): PollStream[] {
  return objects.map((o) => salesforceObjectStream(o));
}
