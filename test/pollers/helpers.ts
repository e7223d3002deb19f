import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { unpackMessageBody } from "../../src/envelope/message-body";
import { setLogSink } from "../../src/lib/log";
import type { PollEnv } from "../../src/pollers/run-poll";
import type { PollSource, PollStream } from "../../src/pollers/types";
import { processIngestBatch } from "../../src/queue-consumers/ingest-consumer";

/** A clock whose sleep advances time at once and remembers every wait. */
export function fakeClock(start = Date.parse("2026-11-25T08:00:00Z")) {
  const clock = {
    t: start,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

/**
 * What a recorded message holds: `body` as tests read it (a gzip'd bundle unpacked), `wire` as a
 * consumer receives it (a "bytes" message as an ArrayBuffer of its own, as the real queue hands it).
 */
function recorded<T>(body: T, delaySeconds?: number): { body: T; wire: unknown; delaySeconds?: number } {
  let shown = body;
  let wire: unknown = body;
  if (ArrayBuffer.isView(body)) {
    wire = new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice().buffer;
    const unpacked = unpackMessageBody(wire);
    if (!unpacked.ok) throw new Error(unpacked.reason);
    shown = unpacked.value as T;
  }
  // Not enumerable: tests compare recorded messages with toEqual on what was sent.
  return Object.defineProperty({ body: shown, delaySeconds }, "wire", { value: wire, enumerable: false }) as {
    body: T;
    wire: unknown;
    delaySeconds?: number;
  };
}

/** A queue producer that keeps what it is given, so a test decides when (and whether) it is delivered. */
export function recordingQueue<T = unknown>() {
  const q = {
    messages: [] as { body: T; wire: unknown; delaySeconds?: number }[],
    /** The send with this number is accepted, then the Worker "dies" before anything else happens. */
    crashAfterSend: 0,
    calls: 0,
    async send(body: T, options?: { delaySeconds?: number }) {
      q.messages.push(recorded(body, options?.delaySeconds));
      if (++q.calls === q.crashAfterSend) throw new Error("simulated crash: the Worker died after the queue accepted");
    },
    async sendBatch(batch: { body: T; delaySeconds?: number }[]) {
      for (const m of batch) q.messages.push(recorded(m.body, m.delaySeconds));
      if (++q.calls === q.crashAfterSend) throw new Error("simulated crash: the Worker died after the queue accepted");
    },
  };
  return q;
}

export type RecordingQueue = ReturnType<typeof recordingQueue>;

export function pollEnv(over: Partial<PollEnv> = {}) {
  const INGEST = recordingQueue();
  const JOBS = recordingQueue();
  return {
    DB: env.DB,
    RAW: env.RAW,
    INGEST: INGEST as unknown as Queue<unknown> & RecordingQueue,
    JOBS: JOBS as unknown as Queue<unknown> & RecordingQueue,
    RATE_FRACTION: "0.5",
    ...over,
  } as PollEnv & { INGEST: RecordingQueue; JOBS: RecordingQueue };
}

let batchCounter = 0;
/** Runs the real raw writer over everything the INGEST recorder holds (and empties it). */
export async function deliverIngest(q: RecordingQueue): Promise<void> {
  const bodies = q.messages.splice(0).map((m) => m.wire);
  for (let i = 0; i < bodies.length; i += 100) {
    const batch = createMessageBatch(
      "loading-dock-ingest",
      bodies.slice(i, i + 100).map((body) => ({ id: `pm${++batchCounter}`, timestamp: new Date(), attempts: 1, body })),
    );
    await processIngestBatch(env, batch);
  }
}

/** Record ids the recorder holds, in order (bundles only). */
export function sentIds(q: RecordingQueue): string[] {
  return q.messages.flatMap((m) => ((m.body as { records?: { id: string }[] }).records ?? []).map((r) => r.id));
}

let sourceCounter = 0;
/** A polling source with a fresh name (tests share one D1), defined only by data. */
export function aSource(stream: Partial<PollStream> & Pick<PollStream, "pagination">, over: Partial<PollSource> = {}): PollSource {
  return {
    name: `vendor${++sourceCounter}`,
    baseUrl: "https://api.vendor.test",
    ...over,
    streams: [{ name: "items", path: "/v1/items", records: "data", primaryKey: "id", pageSize: 3, ...stream }],
  };
}

interface Reply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

interface Route {
  url: string;
  replies: (Reply | ((req: Request) => Reply))[];
  hits: number;
}

function canonical(url: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${u.origin}${u.pathname}?${params.map(([k, v]) => `${k}=${v}`).join("&")}`;
}

/**
 * The vendor's HTTP API, strictly: every request must match one expected URL exactly (path and
 * the whole set of query parameters). Anything else is recorded in `unexpected` and answered
 * 418, which fails the run, so a test cannot pass on a request it did not expect.
 */
export class VendorMock {
  readonly routes: Route[] = [];
  readonly requests: { method: string; url: string; headers: Headers; body: string; at?: number }[] = [];
  readonly unexpected: string[] = [];
  clock?: { now(): number };

  on(url: string, ...replies: (Reply | ((req: Request) => Reply))[]): this {
    this.routes.push({ url: canonical(url), replies, hits: 0 });
    return this;
  }

  install() {
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input as RequestInfo, init);
      const body = req.method === "GET" ? "" : await req.clone().text();
      this.requests.push({ method: req.method, url: req.url, headers: req.headers, body, at: this.clock?.now() });
      const key = canonical(req.url);
      const route = this.routes.find((r) => r.url === key);
      if (!route) {
        this.unexpected.push(`${req.method} ${req.url}`);
        return new Response("unexpected request", { status: 418 });
      }
      const reply = route.replies[Math.min(route.hits, route.replies.length - 1)];
      route.hits++;
      const r = typeof reply === "function" ? reply(req) : (reply as Reply);
      return new Response(r.body ?? "", { status: r.status ?? 200, headers: { "content-type": "application/json", ...r.headers } });
    });
  }
}

export function only(stream: PollSource): PollStream {
  return stream.streams?.[0] as PollStream;
}

/** Keeps the engine's log lines (for assertions) instead of printing them. */
export const logLines: string[] = [];
export function quietLogs(): void {
  logLines.length = 0;
  setLogSink((line) => logLines.push(line));
}

/** A polled record's `_dock.version`: the vendor's value and 16 hex digits of the record's sha256 (record-version.ts). */
export function versionWithDigest(vendorVersion: string) {
  return expect.stringMatching(new RegExp(`^${vendorVersion.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\|[0-9a-f]{16}$`));
}
