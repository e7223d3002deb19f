import type { ListingTiming, ReconcileWindow } from "./types";

export const DAY_MS = 86_400_000;
/** The nightly window stays this far inside the vendor's history, so its oldest page still exists when we reach it. */
export const HISTORY_MARGIN_MS = 3_600_000;
/** A source never reconciled before starts with the last day. */
export const FIRST_LOOKBACK_MS = DAY_MS;

/** A window the engine will not run: too long for the vendor's history, reversed, or not a time. */
export class WindowRefused extends Error {}

const iso = (ms: number) => new Date(ms).toISOString();

export interface WindowPlan {
  /** What to list; null when there is nothing new to ask about yet. */
  window: ReconcileWindow | null;
  /** Older than the vendor keeps: lost for good unless it came by webhook (reported, never listed). */
  unrecoverable?: ReconcileWindow;
}

/**
 * The nightly window: from the last reconciled end minus the overlap (the last day on a first
 * run) to now minus the settle delay. A watermark older than the vendor's history means the
 * source was down longer than can be recovered: that range is reported, and the window starts
 * where the history does.
 */
export function nightlyWindow(spec: ListingTiming, watermark: string | null, nowMs: number): WindowPlan {
  const end = nowMs - spec.settleSeconds * 1000;
  const horizon = nowMs - spec.historyDays * DAY_MS + HISTORY_MARGIN_MS;
  const mark = watermark ? Date.parse(watermark) : Number.NaN;
  let start = Number.isNaN(mark) ? end - FIRST_LOOKBACK_MS : mark - spec.overlapSeconds * 1000;
  const unrecoverable = !Number.isNaN(mark) && mark < horizon ? { from: iso(mark), to: iso(horizon) } : undefined;
  start = Math.max(start, horizon);
  return { window: start < end ? { from: iso(start), to: iso(end) } : null, ...(unrecoverable ? { unrecoverable } : {}) };
}

function parseTime(name: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new WindowRefused(`${name} ${JSON.stringify(value.slice(0, 40))} is not an ISO-8601 time`);
  return ms;
}

/**
 * A window asked for by an operator. Refused when reversed, or when it reaches back further than
 * the vendor keeps its listing: what is older cannot be listed, so a run could only pretend.
 */
export function requestedWindow(source: string, spec: ListingTiming, from: string, to: string | undefined, nowMs: number): ReconcileWindow {
  const fromMs = parseTime("from", from);
  const toMs = Math.min(to === undefined || to === "" ? nowMs : parseTime("to", to), nowMs);
  if (fromMs >= toMs) throw new WindowRefused(`the window ${iso(fromMs)} .. ${iso(toMs)} is empty or reversed`);
  const oldest = nowMs - spec.historyDays * DAY_MS;
  if (fromMs < oldest) {
    const days = ((nowMs - fromMs) / DAY_MS).toFixed(1);
    throw new WindowRefused(
      `the window ${iso(fromMs)} .. ${iso(toMs)} reaches back ${days} days, but ${source} keeps its listing for ${spec.historyDays} days: ` +
        `${iso(fromMs)} .. ${iso(oldest)} is an unrecoverable range; ask for a window starting at ${iso(oldest)} or later`,
    );
  }
  return { from: iso(fromMs), to: iso(toMs) };
}

/** The UTC days a window touches, each with its bounds. */
export function daysOf(window: ReconcileWindow, maxDays = 400): { day: string; start: string; end: string }[] {
  const out: { day: string; start: string; end: string }[] = [];
  const last = Date.parse(window.to);
  for (let t = Date.parse(`${window.from.slice(0, 10)}T00:00:00.000Z`); t <= last && out.length < maxDays; t += DAY_MS) {
    const day = iso(t).slice(0, 10);
    if (iso(t) === window.to && out.length > 0) break;
    out.push({ day, start: iso(t), end: iso(t + DAY_MS) });
  }
  return out;
}

export function clip(window: ReconcileWindow, day: { start: string; end: string }): ReconcileWindow {
  // ISO-8601 UTC times of one format sort as text.
  const [from] = [window.from, day.start].sort().slice(-1);
  const [to] = [window.to, day.end].sort();
  return { from: from as string, to: to as string };
}

export function contains(window: ReconcileWindow, at: string): boolean {
  const t = Date.parse(at);
  return !Number.isNaN(t) && t >= Date.parse(window.from) && t <= Date.parse(window.to);
}
