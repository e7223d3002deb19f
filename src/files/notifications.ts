import * as z from "zod";
import { errorText, log } from "../lib/log";
import { retryDelaySeconds } from "../queue-consumers/retry-delay";
import type { FilesEnv } from "./env";
import { landFile } from "./land";
import { fileNameProblem, isFileSource } from "./names";

/** The body of an R2 event notification, as Cloudflare documents it (fields we do not use are ignored). */
export const r2EventSchema = z.object({
  bucket: z.string(),
  action: z.string(),
  object: z.object({ key: z.string(), size: z.number().int().nonnegative().optional(), eTag: z.string().optional() }),
  eventTime: z.string().optional(),
});
export type R2Event = z.infer<typeof r2EventSchema>;

const LANDING_ACTIONS = new Set(["PutObject", "CopyObject", "CompleteMultipartUpload"]);

/** `drop/acme/orders.csv` → { source: "acme", name: "orders.csv" }, or why not. */
export function dropTarget(prefix: string, key: string): { source: string; name: string } | { problem: string } {
  if (!key.startsWith(prefix)) return { problem: `not under ${prefix}` };
  const parts = key.slice(prefix.length).split("/");
  if (parts.length !== 2) return { problem: `expected ${prefix}<source>/<name>` };
  const [source, name] = parts as [string, string];
  if (!isFileSource(source)) return { problem: `invalid source ${JSON.stringify(source)}` };
  const problem = fileNameProblem(name);
  return problem ? { problem } : { source, name };
}

/**
 * The consumer of R2 event notifications on the drop prefix: a partner wrote an object over the
 * S3 API; it is copied (streamed and hashed) into files/ and parsed like a PUT drop. The drop
 * object itself is left for the bucket's lifecycle rule. Events we cannot use are logged and acked.
 */
export async function processFileEvents(env: FilesEnv, batch: MessageBatch<unknown>): Promise<void> {
  const prefix = env.FILES_DROP_PREFIX ?? "drop/";
  for (const message of batch.messages) {
    const parsed = r2EventSchema.safeParse(message.body);
    if (!parsed.success) {
      log("error", { event: "file.event_invalid", error: parsed.error.issues[0]?.message ?? "invalid event" });
      message.ack();
      continue;
    }
    const event = parsed.data;
    const target = dropTarget(prefix, event.object.key);
    if (!LANDING_ACTIONS.has(event.action) || "problem" in target) {
      log("warn", {
        event: "file.event_ignored",
        key: event.object.key,
        action: event.action,
        error: "problem" in target ? target.problem : "not a write",
      });
      message.ack();
      continue;
    }
    try {
      const object = await env.RAW.get(event.object.key);
      if (!object) {
        log("warn", { event: "file.event_gone", source: target.source, key: event.object.key });
        message.ack();
        continue;
      }
      const result = await landFile(env, { ...target, body: object.body, size: object.size, origin: "r2_event" });
      log("info", { event: `file.event.${result.status}`, source: target.source, pattern: "file", run_id: result.run_id, key: result.key });
      message.ack();
    } catch (err) {
      log("error", {
        event: "file.event_failed",
        source: target.source,
        pattern: "file",
        error: errorText(err),
        attempts: message.attempts,
      });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
