import { gzipSync, strToU8, zipSync } from "fflate";

/** The amplitude_id of event `n`, as text: 900000000000000000 + n, which no JS number can hold exactly. */
export function anAmplitudeId(n: number): string {
  return (900000000000000000n + BigInt(n)).toString();
}

/** An exported Amplitude event, shaped like the Export API's JSON lines (`amplitude_id` as text, see `line`). */
export function anAmplitudeEvent(n: number, hour: string) {
  const day = `${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}`;
  const time = `${day} ${hour.slice(9, 11)}:${String(n % 60).padStart(2, "0")}:07.123000`;
  // Above 2^53, so built as text: a JS number would already have lost the last digits (…001 → …000).
  const amplitudeId = anAmplitudeId(n);
  const event = {
    $insert_id: `ins-${hour}-${n}`,
    amplitude_id: amplitudeId,
    app: 123456,
    device_id: `dev-${n % 7}`,
    event_id: n,
    event_properties: { plan: n % 2 ? "pro" : "free" },
    event_time: time,
    event_type: n % 3 ? "page_view" : "purchase",
    server_upload_time: time,
    user_id: `user-${n % 11}`,
    uuid: `0f6d3a5e-${hour.slice(0, 8)}-${hour.slice(9)}00-${String(n).padStart(4, "0")}-000000000000`,
  };
  return {
    event,
    /** The event's JSON line: the 18-digit amplitude_id written as the vendor does, a bare number digit for digit. */
    line: () => JSON.stringify(event).replace(`"amplitude_id":"${amplitudeId}"`, `"amplitude_id":${amplitudeId}`),
  };
}

/**
 * An export archive as the API sends it: `<project>/<project>_<day>_<hour>#<n>.json.gz` entries,
 * each a gzip of JSON lines. `files` holds the lines of each file of each hour.
 */
export function anExportZip(project: number, hours: Record<string, string[][]>, order: "as given" | "reversed" = "as given"): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [hour, files] of Object.entries(hours)) {
    const day = `${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}`;
    files.forEach((lines, i) => {
      entries[`${project}/${project}_${day}_${Number(hour.slice(9))}#${i}.json.gz`] = gzipSync(strToU8(`${lines.join("\n")}\n`));
    });
  }
  const names = Object.keys(entries);
  if (order === "reversed") names.reverse();
  return zipSync(Object.fromEntries(names.map((n) => [n, entries[n] as Uint8Array])), { level: 0 });
}

/** `count` events of an hour as lines. */
export function eventLines(hour: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => anAmplitudeEvent(from + i, hour).line());
}
