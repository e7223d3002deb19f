import * as z from "zod";
import { log } from "../lib/log";
import type { PollSource } from "./types";
import { type PollEnv, runPollStep } from "./run-poll";

const runJob = {
  source: z.string().min(1).max(63),
  stream: z.string().min(1).max(128),
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  page: z.number().int().nonnegative().optional(),
};

/** JOBS kinds of the poll engine: an incremental poll and a full refresh; both carry their own continuation. */
export const pollJobSchema = z.object({ kind: z.literal("poll"), ...runJob });
export const fullRefreshJobSchema = z.object({ kind: z.literal("full_refresh"), ...runJob });

export type PollJobMessage = z.infer<typeof pollJobSchema> | z.infer<typeof fullRefreshJobSchema>;

/**
 * The JOBS handler for both kinds. A source that no longer exists is logged and dropped; an
 * unexpected error (D1, a queue send) is thrown so the queue retries the message, which resumes
 * the run from its last checkpoint.
 */
export function pollJobHandler(find: (name: string) => PollSource | undefined) {
  return async (env: unknown, job: PollJobMessage): Promise<void> => {
    const source = find(job.source);
    if (!source?.streams?.some((s) => s.name === job.stream)) {
      log("error", { event: "poll.unknown_stream", source: job.source, stream: job.stream, pattern: job.kind });
      return;
    }
    await runPollStep(env as PollEnv, source, job);
  };
}
