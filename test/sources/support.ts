import { env as workerEnv } from "cloudflare:workers";
import { openGate } from "../../src/pollers/rate-gate";
import { type PollDeps, runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, type pollEnv } from "../pollers/helpers";

export { deliverIngest, fakeClock, logLines, pollEnv, quietLogs, VendorMock } from "../pollers/helpers";

let counter = 0;
/** The real source definition under a fresh name: tests share one D1 (cursors, runs) and one bucket. */
export function renamed<S extends PollSource>(source: S): S {
  return { ...source, name: `${source.name}_t${Date.now() % 100000}_${++counter}` };
}

export type TestEnv = ReturnType<typeof pollEnv>;

/** One invocation of a run of `stream` (poll unless said), with a fake clock and no rate waits. */
export function run(
  env: TestEnv,
  source: PollSource,
  stream: string,
  opts: { kind?: "poll" | "full_refresh"; run_id?: string } & PollDeps = {},
) {
  const { kind = "poll", run_id, ...deps } = opts;
  return runPollStep(env, source, { kind, source: source.name, stream, run_id }, { clock: fakeClock(), gate: openGate, ...deps });
}

/** Hands what the run put on INGEST to the real raw writer, then reads the source's raw zone back. */
export async function landed(env: TestEnv, source: PollSource) {
  await deliverIngest(env.INGEST);
  return readEnvelopes(`raw/source=${source.name}/`);
}

/** The run's row in D1. */
export async function runRow(id: string) {
  return workerEnv.DB.prepare("SELECT status, error, records, pages, cursor_from, cursor_to FROM runs WHERE id = ?").bind(id).first<{
    status: string;
    error: string | null;
    records: number;
    pages: number;
    cursor_from: string | null;
    cursor_to: string | null;
  }>();
}

export async function storedCursor(source: PollSource, stream: string): Promise<string | null> {
  const row = await workerEnv.DB.prepare("SELECT cursor FROM cursors WHERE source = ? AND stream = ?")
    .bind(source.name, stream)
    .first<{ cursor: string }>();
  return row?.cursor ?? null;
}
