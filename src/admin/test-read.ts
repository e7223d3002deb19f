import * as z from "zod";
import type { PollEnv } from "../pollers/run-poll";
import { type TestReadPage, testReadPage } from "../pollers/test-read";
import type { SourceDefinition } from "../sources/define-source";

export const testReadBody = z
  .object({
    /** Default: a poll, or a full refresh for a stream that is only ever read as one. */
    pattern: z.enum(["poll", "full_refresh"]).optional(),
    /** A continuation printed by an earlier test read (`next`), to see the page after it. */
    next: z.record(z.string(), z.union([z.string().max(2000), z.number()])).optional(),
    /** Read from this cursor value instead of the stored one; null reads as if none were stored. */
    cursor: z.string().min(1).max(1000).nullable().optional(),
  })
  .strict();

export type TestReadAnswer =
  | { status: 200; body: TestReadPage & { wrote: string } }
  | { status: 400 | 404 | 422 | 502; body: { error: string; missing?: string[] } };

/**
 * `POST /admin/streams/:source/:stream/test-read`: one page of a polled stream, read by the engine
 * as a run reads it, answered instead of landed. 422 names what to set when the source is not
 * configured; 502 carries the vendor's (or the page's) error, as a run would have failed with it.
 */
export async function testRead(
  env: PollEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: string,
  body: z.infer<typeof testReadBody>,
): Promise<TestReadAnswer> {
  const def = find(source);
  if (!def) return { status: 404, body: { error: `no source named ${JSON.stringify(source)}` } };
  const polled = def.streams?.find((s) => s.name === stream);
  const onlySnapshot = polled !== undefined && (polled.intervalMinutes ?? 15) === 0 && polled.fullRefresh === true;
  const pattern = body.pattern ?? (onlySnapshot ? "full_refresh" : "poll");
  const out = await testReadPage(env, def, stream, { pattern, next: body.next, cursor: body.cursor });
  switch (out.kind) {
    case "page":
      return { status: 200, body: { ...out.page, wrote: "nothing: no run recorded, no cursor moved, nothing queued, nothing in R2" } };
    case "unknown":
      return { status: 404, body: { error: `${out.error} (webhook streams cannot be read this way)` } };
    case "refused":
      return { status: 400, body: { error: out.error } };
    case "not_configured":
      return { status: 422, body: { error: out.error, missing: out.missing } };
    case "failed":
      return { status: 502, body: { error: out.error } };
  }
}
