/** Amplitude names hours `YYYYMMDDTHH` (UTC); as strings they sort in time order, so they serve as the cursor. */
export type Hour = string;

const HOUR_MS = 3_600_000;
const FORMAT = /^(\d{4})(\d{2})(\d{2})T(\d{2})$/;

export function hourOf(ms: number): Hour {
  const iso = new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}`;
}

export function hourMs(hour: Hour): number {
  const m = FORMAT.exec(hour);
  if (!m) throw new Error(`not an hour (YYYYMMDDTHH): ${JSON.stringify(hour)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

export function isHour(value: unknown): value is Hour {
  return typeof value === "string" && FORMAT.test(value) && hourOf(hourMs(value)) === value;
}

export function addHours(hour: Hour, n: number): Hour {
  return hourOf(hourMs(hour) + n * HOUR_MS);
}

export function hoursBetween(from: Hour, to: Hour): number {
  return Math.round((hourMs(to) - hourMs(from)) / HOUR_MS) + 1;
}

/** The last hour whose data has landed: the hour must have ended `lagHours` ago. */
export function lastCompleteHour(nowMs: number, lagHours: number): Hour {
  return hourOf(nowMs - (lagHours + 1) * HOUR_MS);
}
