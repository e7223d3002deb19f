import { env as workerEnv } from "cloudflare:workers";
import { gzipSync, strToU8, Zip, ZipDeflate, zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { amplitude } from "../../src/sources/amplitude";
import { DEFAULT_EXPORT, exportStream } from "../../src/sources/amplitude/export-stream";
import { CorruptArchive, ZipJsonLines } from "../../src/sources/amplitude/zip-lines";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, logLines, pollEnv, quietLogs, sentIds } from "../pollers/helpers";
import { anAmplitudeId, anExportZip, eventLines } from "./amplitude-fixtures";
import { StrictVendor } from "./vendor-http";

const EXPORT = "https://amplitude.com/api/2/export";
const KEY = "amp-api-key-test";
const SECRET = "amp-secret-key-test";
const BASIC = `Basic ${btoa(`${KEY}:${SECRET}`)}`;
// 09:30 UTC with a 2-hour lag: hour 06 (06:00–07:00, landed by 09:00) is the last complete one.
const NOW = Date.parse("2026-11-25T09:30:00Z");

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

let counter = 0;
function anAmplitudeSource(over: Partial<typeof DEFAULT_EXPORT> = {}): PollSource {
  return { ...amplitude, name: `amplitude_t${++counter}`, streams: [exportStream({ ...DEFAULT_EXPORT, ...over })] };
}

function ampEnv(extra: Record<string, string> = {}) {
  return pollEnv({ AMPLITUDE_API_KEY: KEY, AMPLITUDE_SECRET_KEY: SECRET, ...extra });
}

function exportCall(start: string, end = start) {
  return { url: `${EXPORT}?start=${start}&end=${end}`, headers: { authorization: BASIC } };
}

async function runStatus(id: string) {
  return workerEnv.DB.prepare("SELECT status, error, records FROM runs WHERE id = ?1")
    .bind(id)
    .first<{ status: string; error: string | null; records: number }>();
}

describe("amplitude: hourly Export API", () => {
  it("given three landed hours (two files each, one hour empty, one corrupt line), when polled one hour per request, then every line lands, the corrupt one raw with its error, and the cursor is the last hour", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T03");
    const h04 = [eventLines("20261125T04", 0, 3), eventLines("20261125T04", 3, 2)];
    const h06 = [
      eventLines("20261125T06", 0, 2),
      [...eventLines("20261125T06", 2, 1), '{"uuid":"broken", "event_type": tru', ...eventLines("20261125T06", 3, 1)],
    ];
    const vendor = new StrictVendor()
      .on(exportCall("20261125T04"), { body: anExportZip(123456, { "20261125T04": h04 }) })
      .on(exportCall("20261125T05"), { status: 404, body: '{"error":"Raw data files were not found."}' })
      .on(exportCall("20261125T06"), { body: anExportZip(123456, { "20261125T06": h06 }) });
    vendor.install();
    const env = ampEnv({ AMPLITUDE_EXPORT_MAX_HOURS: "1" });

    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 10 });
    expect(vendor.requests.map((r) => new URL(r.url).search)).toEqual([
      "?start=20261125T04&end=20261125T04",
      "?start=20261125T05&end=20261125T05",
      "?start=20261125T06&end=20261125T06",
    ]);
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T06");

    await deliverIngest(env.INGEST);
    const landed = await readEnvelopes(`raw/source=${source.name}/stream=export_events/`);
    expect(landed).toHaveLength(10);
    const corrupt = landed.filter((e) => e.raw !== undefined);
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]?.raw).toBe('{"uuid":"broken", "event_type": tru');
    expect(corrupt[0]?._dock).toMatchObject({ op: "event", key: "123456/123456_2026-11-25_6#1.json.gz#2" });
    expect(String(corrupt[0]?._dock.error)).toMatch(/line 2 of 123456\/123456_2026-11-25_6#1\.json\.gz is not JSON/);
    const good = landed.filter((e) => e.data !== undefined);
    expect(new Set(good.map((e) => e._dock.key)).size).toBe(9);
    expect(good.every((e) => e._dock.op === "event")).toBe(true);
    // The vendor's bytes as sent: each 18-digit amplitude_id (above 2^53) keeps every digit, e.g. …0001, not …0000.
    const lines = await import("../helpers/raw-zone").then((m) => m.readLines(`raw/source=${source.name}/stream=export_events/`));
    for (const n of [0, 1, 2, 3, 4]) {
      expect(lines.filter((l) => l.includes(`"amplitude_id":${anAmplitudeId(n)},`)).length, `amplitude_id of event ${n}`).toBeGreaterThan(
        0,
      );
    }

    const run = await runStatus(out.runId);
    expect(run).toMatchObject({ status: "succeeded", records: 10 });
    expect(run?.error).toMatch(
      /^1 line\(s\) were not JSON and were kept raw with their error: 123456\/123456_2026-11-25_6#1\.json\.gz line 2/,
    );
    expect(logLines.some((l) => l.includes('"event":"amplitude.corrupt_line"'))).toBe(true);
  });

  it("given a range that is not yet landed (data lands about 2 hours late), when polled, then no request is made and the cursor stays", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T06");
    const vendor = new StrictVendor();
    vendor.install();
    const out = await runPollStep(
      ampEnv(),
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out).toMatchObject({ status: "succeeded", records: 0 });
    expect(vendor.requests).toHaveLength(0);
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T06");
  });

  it("given a multi-hour range the API refuses as too large (400), when polled, then the range is halved until it passes and no hour is skipped", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T02");
    const tooLarge = { status: 400, body: "Raw data files were too large to export. Please select a shorter time range." };
    const vendor = new StrictVendor()
      .on(exportCall("20261125T03", "20261125T06"), tooLarge)
      .on(exportCall("20261125T03", "20261125T04"), {
        body: anExportZip(1, { "20261125T03": [eventLines("20261125T03", 0, 2)], "20261125T04": [eventLines("20261125T04", 0, 2)] }),
      })
      .on(exportCall("20261125T05", "20261125T06"), tooLarge)
      .on(exportCall("20261125T05"), { body: anExportZip(1, { "20261125T05": [eventLines("20261125T05", 0, 1)] }) })
      .on(exportCall("20261125T06"), { body: anExportZip(1, { "20261125T06": [eventLines("20261125T06", 0, 1)] }) });
    vendor.install();
    const env = ampEnv();

    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 6 });
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T06");
    expect(logLines.filter((l) => l.includes('"event":"amplitude.range_split"'))).toHaveLength(2);
  });

  it("given a single hour refused as too large, when polled, then the run fails naming the hour and the cursor stays", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T05");
    new StrictVendor().on(exportCall("20261125T06"), { status: 400, body: "too large" }).install();
    const out = await runPollStep(
      ampEnv(),
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/export of hour 20261125T06 refused \(400\): too large/);
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T05");
  });

  it("given an hour larger than one step may read, when polled with a budget of one step per invocation and the re-sent archive lists its files in another order, then it continues mid-hour by file and line, and nothing is lost or doubled", async () => {
    const source = anAmplitudeSource({ maxLinesPerStep: 4 });
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T05");
    const files = { "20261125T06": [eventLines("20261125T06", 0, 5), eventLines("20261125T06", 5, 5)] };
    const vendor = new StrictVendor().on(
      exportCall("20261125T06"),
      { body: anExportZip(7, files) },
      { body: anExportZip(7, files, "reversed") },
      { body: anExportZip(7, files) },
    );
    vendor.install();
    const env = ampEnv();
    const clock = fakeClock(NOW);
    const job = { kind: "poll" as const, source: source.name, stream: "export_events", run_id: `poll-${source.name}` };

    const outcomes = [];
    for (let i = 0; i < 6; i++) {
      const out = await runPollStep(env, source, job, { clock, gate: openGate, budget: { pages: 1 } });
      outcomes.push(out.status);
      if (out.status === "succeeded") break;
      // Mid-range the cursor has not moved: the hour is not complete on INGEST yet.
      expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T05");
    }

    expect(outcomes).toEqual(["continued", "continued", "succeeded"]);
    expect(vendor.hits(exportCall("20261125T06").url)).toBe(3);
    // Sent exactly once each: the second archive's other file order did not shift what was skipped.
    expect(sentIds(env.INGEST)).toHaveLength(10);
    expect(new Set(sentIds(env.INGEST)).size).toBe(10);
    await deliverIngest(env.INGEST);
    const landed = await readEnvelopes(`raw/source=${source.name}/stream=export_events/`);
    expect(landed).toHaveLength(10);
    expect(landed.map((e) => e._dock.key).sort()).toEqual(
      [...eventLines("20261125T06", 0, 10)].map((l) => (JSON.parse(l) as { uuid: string }).uuid).sort(),
    );
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T06");
  });

  it("given a throttled export (429 with Retry-After), when polled, then it waits as asked and then reads the hour", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T05");
    const vendor = new StrictVendor().on(
      exportCall("20261125T06"),
      { status: 429, body: '{"error":"Too many requests"}', headers: { "retry-after": "7" } },
      { body: anExportZip(1, { "20261125T06": [eventLines("20261125T06", 0, 2)] }) },
    );
    vendor.install();
    const clock = fakeClock(NOW);
    const out = await runPollStep(
      ampEnv(),
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock, gate: openGate },
    );

    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(7000);
  });

  it("given an archive cut off in the middle, when polled, then the run fails with the archive's error and the cursor stays", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T05");
    const zip = anExportZip(1, { "20261125T06": [eventLines("20261125T06", 0, 40)] });
    new StrictVendor().on(exportCall("20261125T06"), { body: zip.slice(0, Math.floor(zip.length / 2)) }).install();
    const out = await runPollStep(
      ampEnv(),
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/export 20261125T06–20261125T06: .*(archive|ended|gzip|ZIP)/);
    expect(await readCursor(workerEnv.DB, source.name, "export_events")).toBe("20261125T05");
  });

  it("given wrong keys (401), when polled, then the run fails clearly and neither key appears in the error", async () => {
    const source = anAmplitudeSource();
    await resetCursor(workerEnv.DB, source.name, "export_events", "20261125T05");
    new StrictVendor().on(exportCall("20261125T06"), { status: 401, body: "Invalid API key" }).install();
    const out = await runPollStep(
      ampEnv(),
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/answered 401: Invalid API key/);
    expect(out.error).not.toContain(SECRET);
    expect(out.error).not.toContain(btoa(`${KEY}:${SECRET}`));
  });
});

describe("amplitude: ZipJsonLines", () => {
  function lines(zip: Uint8Array, chunk: number) {
    const z = new ZipJsonLines();
    const out: string[] = [];
    for (let i = 0; i < zip.length; i += chunk) {
      z.push(zip.subarray(i, i + chunk), false);
      out.push(...z.take().map((l) => `${l.file}:${l.line}:${l.text}`));
    }
    z.push(new Uint8Array(0), true);
    out.push(...z.take().map((l) => `${l.file}:${l.line}:${l.text}`));
    return out;
  }
  const a = gzipSync(strToU8('{"uuid":"a"}\r\n{"uuid":"b"}\n\n'));
  const b = gzipSync(strToU8('{"uuid":"ü"}\n{"uuid":"d"}'));
  const multiMember = new Uint8Array([...a, ...b]);
  const expected = ['p/x.json.gz:1:{"uuid":"a"}', 'p/x.json.gz:2:{"uuid":"b"}', 'p/x.json.gz:4:{"uuid":"ü"}', 'p/x.json.gz:5:{"uuid":"d"}'];

  /** Method and flags of each local header, read from the bytes: what a test claims about its archive holds. */
  function localHeaders(zip: Uint8Array) {
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const out: { method: number; descriptor: boolean }[] = [];
    for (let i = 0; i + 30 <= zip.length; ) {
      if (view.getUint32(i, true) !== 0x04034b50) break;
      const flags = view.getUint16(i + 6, true);
      out.push({ method: view.getUint16(i + 8, true), descriptor: (flags & 8) !== 0 });
      if (flags & 8) break; // its size is after its data: the next header is not found by arithmetic
      i += 30 + view.getUint16(i + 26, true) + view.getUint16(i + 28, true) + view.getUint32(i + 18, true);
    }
    return out;
  }

  function streamedZip(entries: [string, Uint8Array, number][]): Uint8Array {
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      parts.push(chunk);
    });
    for (const [name, bytes, level] of entries) {
      const entry = new ZipDeflate(name, { level: level as 0 });
      zip.add(entry);
      entry.push(bytes, true);
    }
    zip.end();
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  it("given a deflated entry holding a multi-member gzip (CRLF, a blank line, a final line without newline), when pushed 5 bytes at a time, then every line comes out with its file and line number", () => {
    const zip = zipSync({ "p/": new Uint8Array(0), "p/x.json.gz": multiMember }, { level: 6 });
    expect(localHeaders(zip).map((h) => h.method)).toEqual([8, 8]);
    expect(lines(zip, 5)).toEqual(expected);
  });

  it("given deflated entries whose compressed bytes hold a local-header and a descriptor signature (data descriptors after each), when pushed 7 bytes at a time, then each entry is read to its real end and every line comes out", () => {
    // Stored deflate blocks (level 0) keep the bytes as they are: the signatures stand in the entry's data.
    const trap = gzipSync(strToU8('{"uuid":"a"}\nnot json: PK\u0003\u0004 then PK\u0007\u0008 inside\n{"uuid":"b"}\n'), { level: 0 });
    const zip = streamedZip([
      ["p/x.json.gz", trap, 0],
      ["p/y.json.gz", gzipSync(strToU8('{"uuid":"c"}\n')), 9],
    ]);
    expect(localHeaders(zip)[0]).toEqual({ method: 8, descriptor: true });
    expect(
      Buffer.from(zip)
        .subarray(40)
        .includes(Buffer.from([0x50, 0x4b, 3, 4, 0x20])),
    ).toBe(true);
    expect(lines(zip, 7)).toEqual([
      'p/x.json.gz:1:{"uuid":"a"}',
      "p/x.json.gz:2:not json: PK\u0003\u0004 then PK\u0007\u0008 inside",
      'p/x.json.gz:3:{"uuid":"b"}',
      'p/y.json.gz:1:{"uuid":"c"}',
    ]);
  });

  it("given a data descriptor written without its optional signature, when read in one piece and 2 bytes at a time, then the entry ends there and the next one is read", () => {
    const withSig = streamedZip([
      ["p/x.json.gz", multiMember, 6],
      ["p/z.json", strToU8('{"uuid":"z"}\n'), 6],
    ]);
    // Drop the first descriptor's signature (PK\x07\x08) and fix the central directory's offset of the second entry.
    const view = new DataView(withSig.buffer);
    const firstData = 30 + "p/x.json.gz".length + view.getUint16(28, true);
    let sig = -1;
    for (let i = firstData; i + 16 <= withSig.length; i++) {
      if (view.getUint32(i, true) === 0x08074b50 && view.getUint32(i + 8, true) === i - firstData) {
        sig = i;
        break;
      }
    }
    expect(sig).toBeGreaterThan(0);
    const bare = new Uint8Array([...withSig.subarray(0, sig), ...withSig.subarray(sig + 4)]);
    expect(localHeaders(bare)[0]?.descriptor).toBe(true);
    const want = [...expected, 'p/z.json:1:{"uuid":"z"}'];
    expect(lines(bare, bare.length)).toEqual(want);
    expect(lines(bare, 2)).toEqual(want);
  });

  it("given a streamed ZIP (sizes in data descriptors after each entry), when pushed 3 bytes at a time, then the same lines come out", () => {
    const all = streamedZip([["p/x.json.gz", multiMember, 9]]);
    expect(localHeaders(all)).toEqual([{ method: 8, descriptor: true }]);
    expect(lines(all, 3)).toEqual(expected);
  });

  it("given an entry that is not gzip though named .gz, when read, then it fails naming the file", () => {
    const zip = zipSync({ "p/x.json.gz": strToU8('{"uuid":"plain"}\n') });
    expect(() => lines(zip, 64)).toThrow(CorruptArchive);
    expect(() => lines(zip, 64)).toThrow(/p\/x\.json\.gz/);
  });
});
