import type { PollStream, StepContext, StepRecord, StepResult } from "../../pollers/types";
import { addHours, type Hour, hourOf, hoursBetween, isHour, lastCompleteHour } from "./export-hours";
import { CorruptArchive, type ExportLine, ZipJsonLines } from "./zip-lines";

/** Where exported events are filed, and webhook events that carry `uuid` and `server_upload_time` (events.ts). */
export const EXPORT_STREAM = "export_events";

/** Records handed to INGEST at a time while an archive streams (well under a queue message's worth). */
const EMIT_EVERY = 500;

export interface ExportSettings {
  /** Hours after an hour's end before its data is complete (Amplitude: about 2). */
  lagHours: number;
  /** Hours per export request; a range the API refuses as too large is halved. */
  maxHoursPerRequest: number;
  /** Lines one step reads before it checkpoints (the next step re-opens the range and skips what it sent). */
  maxLinesPerStep: number;
  /** The first run's first hour when no AMPLITUDE_EXPORT_START is set: this many hours back. */
  firstRunHours: number;
}

export const DEFAULT_EXPORT: ExportSettings = { lagHours: 2, maxHoursPerRequest: 24, maxLinesPerStep: 200_000, firstRunHours: 24 };

/**
 * A run's state between steps: the range being read and, per file of its archive, how many lines
 * are already on INGEST (by file and line, so a re-sent archive whose files come in another order
 * still resumes exactly).
 */
interface ExportState {
  start: Hour;
  end: Hour;
  sent: Record<string, number>;
  corrupt: number;
  samples: string[];
}

function settingsFrom(env: Record<string, unknown>, base: ExportSettings): ExportSettings {
  const n = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return {
    ...base,
    lagHours: n("AMPLITUDE_EXPORT_LAG_HOURS", base.lagHours),
    maxHoursPerRequest: Math.max(1, n("AMPLITUDE_EXPORT_MAX_HOURS", base.maxHoursPerRequest)),
  };
}

/** The next range after `cursor` (the last hour exported), or null when it has not landed yet. */
function nextRange(ctx: StepContext, cursor: Hour | null, s: ExportSettings): { start: Hour; end: Hour } | null {
  const last = lastCompleteHour(ctx.now(), s.lagHours);
  const configured = ctx.env.AMPLITUDE_EXPORT_START;
  const start = cursor ? addHours(cursor, 1) : isHour(configured) ? configured : addHours(last, 1 - s.firstRunHours);
  if (start > last) return null;
  const end = hoursBetween(start, last) > s.maxHoursPerRequest ? addHours(start, s.maxHoursPerRequest - 1) : last;
  return { start, end };
}

/**
 * Amplitude's Export API as a stepped stream. Each step reads one hour range
 * (`GET /api/2/export?start=…&end=…`): the ZIP streams through the unzipper, each line becomes an
 * `event` record keyed by the event's `uuid`, and the cursor moves to the range's last hour once
 * every line is on INGEST. A 404 is an empty range; a 400 on a range of several hours (over 4 GB)
 * halves the range; a line that is not JSON is kept raw with its error and counted on the run.
 */
export function exportStream(settings: ExportSettings = DEFAULT_EXPORT): PollStream {
  return {
    // Webhook events that carry uuid and server_upload_time are filed here too (events.ts).
    name: EXPORT_STREAM,
    path: "/api/2/export",
    records: "",
    primaryKey: "uuid",
    pagination: { style: "none" },
    intervalMinutes: 60,
    steps: {
      // The cursor is the last hour exported: the hour before `at`'s, so `at`'s hour is exported again.
      cursorAt: (at) => addHours(hourOf(at.getTime()), -1),
      step: async (ctx, raw) => {
        const s = settingsFrom(ctx.env, settings);
        const prior = raw as ExportState | undefined;
        const cursor = prior ? addHours(prior.start, -1) : cursorOf(ctx.cursorFrom);
        const range =
          prior ??
          (() => {
            const r = nextRange(ctx, cursor, s);
            return r && { ...r, sent: {}, corrupt: 0, samples: [] };
          })();
        if (!range) return done(undefined, { corrupt: 0, samples: [] });
        return readRange(ctx, range, s);
      },
    },
  };
}

/**
 * The last hour already exported, from the step's `cursorFrom`: a poll's stored hour as it is; an
 * ISO time (a reconciliation's window start) is in the hour to read first, so the hour before it.
 */
function cursorOf(from: string | null): Hour | null {
  if (isHour(from)) return from;
  const ms = typeof from === "string" && /^\d{4}-\d{2}-\d{2}T/.test(from) ? Date.parse(from) : Number.NaN;
  return Number.isFinite(ms) ? addHours(hourOf(ms), -1) : null;
}

function done(cursor: Hour | undefined, state: Pick<ExportState, "corrupt" | "samples">): StepResult {
  const note =
    state.corrupt > 0
      ? `${state.corrupt} line(s) were not JSON and were kept raw with their error: ${state.samples.join("; ")}`
      : undefined;
  return { next: "done", cursor, note };
}

async function readRange(ctx: StepContext, state: ExportState, s: ExportSettings): Promise<StepResult> {
  const opened = await ctx.open({ url: "/api/2/export", query: { start: state.start, end: state.end }, acceptStatuses: [400, 404] });
  const carry = { corrupt: state.corrupt, samples: state.samples };
  if (opened.status === 404) {
    await opened.response.body?.cancel();
    ctx.log("info", "amplitude.empty_range", { start: state.start, end: state.end });
    return afterRange(ctx, state.end, carry, s);
  }
  if (opened.status === 400) {
    const body = (await opened.response.text()).slice(0, 300);
    const hours = hoursBetween(state.start, state.end);
    if (hours <= 1) return { next: "fail", error: `export of hour ${state.start} refused (400): ${body}` };
    const end = addHours(state.start, Math.floor(hours / 2) - 1);
    ctx.log("warn", "amplitude.range_split", { start: state.start, end: state.end, new_end: end, error: body });
    return { next: "step", state: { ...state, end, sent: {} } satisfies ExportState };
  }

  const body = opened.response.body;
  if (!body) return afterRange(ctx, state.end, carry, s);
  const zip = new ZipJsonLines();
  const reader = body.getReader();
  let read = 0;
  const sent = { ...state.sent };
  let batch: StepRecord[] = [];
  /** Takes lines up to the step's limit; false once the limit is reached (the rest is for the next step). */
  const take = async (lines: ExportLine[]): Promise<boolean> => {
    for (const line of lines) {
      if (line.line <= (state.sent[line.file] ?? 0)) continue;
      if (read >= s.maxLinesPerStep) return false;
      read++;
      sent[line.file] = line.line;
      const record = toRecord(line);
      if ("error" in record) {
        carry.corrupt++;
        if (carry.samples.length < 5) carry.samples.push(`${line.file} line ${line.line}`);
        ctx.log("warn", "amplitude.corrupt_line", { file: line.file, line: line.line, error: record.error });
      }
      batch.push(record);
      if (batch.length >= EMIT_EVERY) {
        await ctx.emit(batch);
        batch = [];
      }
    }
    return true;
  };
  try {
    for (;;) {
      const { value, done: finished } = await reader.read();
      zip.push(value ?? new Uint8Array(0), finished);
      const room = await take(zip.take());
      if (finished && room) break;
      if (!room) {
        await ctx.emit(batch);
        await reader.cancel();
        return { next: "step", state: { ...state, ...carry, sent } satisfies ExportState };
      }
    }
  } catch (err) {
    if (err instanceof CorruptArchive) return { next: "fail", error: `export ${state.start}–${state.end}: ${err.message}` };
    throw err;
  }
  await ctx.emit(batch);
  ctx.log("info", "amplitude.range_read", { start: state.start, end: state.end, records: read, files: zip.files.length });
  return afterRange(ctx, state.end, carry, s);
}

/** The range is on INGEST: the cursor moves to its last hour, and the next range (if landed) follows. */
function afterRange(ctx: StepContext, end: Hour, carry: Pick<ExportState, "corrupt" | "samples">, s: ExportSettings): StepResult {
  const next = nextRange(ctx, end, s);
  if (!next) return { ...done(end, carry) };
  return { next: "step", cursor: end, state: { ...next, sent: {}, ...carry } satisfies ExportState };
}

/** One export line as a record: the event keyed by `uuid` (else `$insert_id`), or the line kept raw. */
export function toRecord(line: ExportLine): StepRecord {
  let event: unknown;
  try {
    event = JSON.parse(line.text);
  } catch (err) {
    return {
      key: `${line.file}#${line.line}`,
      raw: line.text,
      error: `line ${line.line} of ${line.file} is not JSON: ${(err as Error).message}`,
      op: "event",
    };
  }
  const e = (event ?? {}) as Record<string, unknown>;
  const id = typeof e.uuid === "string" ? e.uuid : typeof e.$insert_id === "string" ? e.$insert_id : undefined;
  if (typeof event !== "object" || event === null || Array.isArray(event) || id === undefined) {
    return { key: `${line.file}#${line.line}`, json: line.text, op: "event" };
  }
  return { key: id, version: typeof e.server_upload_time === "string" ? e.server_upload_time : undefined, json: line.text, op: "event" };
}
