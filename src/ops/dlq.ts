import { utf8Bytes } from "../envelope/bundle";
import { storableBody } from "../envelope/message-body";
import { encoded, sendBatchCuts } from "../ingest/enqueue";
import { errorText, log } from "../lib/log";

/**
 * Dead letters. Cloudflare Queues keeps a DLQ as an ordinary queue, and its pull API needs an
 * account (it does not exist under `wrangler dev`), so each DLQ gets a consumer here that parks
 * its messages in D1 (`dead_letters`). That makes the depth a COUNT and a re-drive a send back
 * to the original queue — the same locally and deployed. A gzip'd bundle is parked unpacked
 * (readable, named by source and stream); a re-drive encodes it again as producers do.
 */
export const DLQ_SUFFIX = "-dlq";

/** `loading-dock-ingest-dlq` → `ingest`. */
export function dlqQueueName(dlq: string): string {
  const base = dlq.slice(0, -DLQ_SUFFIX.length);
  return base.replace(/^loading-dock-/, "");
}

export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith(DLQ_SUFFIX);
}

/** The DLQ consumer: every message is parked (idempotently, by message id) and acknowledged. */
export async function parkDeadLetters(env: { DB: D1Database }, batch: MessageBatch<unknown>, now = new Date()): Promise<void> {
  const queue = dlqQueueName(batch.queue);
  const bodies = batch.messages.map((m) => storableBody(m.body) as { source?: unknown; stream?: unknown } | null);
  const statements = batch.messages.map((m, i) => {
    const body = bodies[i];
    const text = JSON.stringify(body ?? null);
    return env.DB.prepare(
      `INSERT OR IGNORE INTO dead_letters (id, queue, source, stream, body, attempts, parked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
    ).bind(
      m.id,
      queue,
      typeof body?.source === "string" ? body.source : null,
      typeof body?.stream === "string" ? body.stream : null,
      text,
      m.attempts,
      now.toISOString(),
    );
  });
  if (statements.length > 0) await env.DB.batch(statements);
  batch.messages.forEach((m, i) => {
    const body = bodies[i];
    const named = (v: unknown) => (typeof v === "string" ? v : undefined);
    log("error", { event: "dlq.parked", queue, source: named(body?.source), stream: named(body?.stream), attempts: m.attempts });
  });
  batch.ackAll();
}

function jobMessage(json: string) {
  return { body: JSON.parse(json) as unknown, size: utf8Bytes(json), contentType: "json" as const };
}

export interface RedriveEnv {
  DB: D1Database;
  INGEST: Queue<unknown>;
  JOBS: Queue<unknown>;
}

/**
 * Sends parked messages back to the queue they failed on, oldest first, and marks them re-driven
 * only after the queue accepted them. Files-queue letters (R2 notifications) have no producer
 * binding here: they stay parked and are counted as skipped.
 */
export async function redriveDeadLetters(
  env: RedriveEnv,
  opts: { queue?: string; ids?: string[]; limit?: number },
  now = new Date(),
): Promise<{ redriven: number; skipped: number; failed: string | null }> {
  const limit = Math.min(500, Math.max(1, opts.limit ?? 100));
  const where = ["redriven_at IS NULL"];
  const binds: unknown[] = [];
  if (opts.queue) {
    binds.push(opts.queue);
    where.push(`queue = ?${binds.length}`);
  }
  if (opts.ids?.length) {
    binds.push(JSON.stringify(opts.ids));
    where.push(`id IN (SELECT value FROM json_each(?${binds.length}))`);
  }
  binds.push(limit);
  const rows = await env.DB.prepare(
    `SELECT id, queue, body FROM dead_letters WHERE ${where.join(" AND ")} ORDER BY parked_at, id LIMIT ?${binds.length}`,
  )
    .bind(...binds)
    .all<{ id: string; queue: string; body: string }>();
  let redriven = 0;
  let skipped = 0;
  for (const target of ["ingest", "jobs"] as const) {
    // Each letter goes back encoded as its queue's producers send (a large bundle gzip'd), in cuts a sendBatch takes.
    const list = rows.results
      .filter((r) => r.queue === target)
      .map((r) => {
        const message = target === "ingest" ? encoded(JSON.parse(r.body) as unknown, r.body) : jobMessage(r.body);
        return { ...message, id: r.id };
      });
    const queue = target === "ingest" ? env.INGEST : env.JOBS;
    for (const part of sendBatchCuts(list)) {
      try {
        await queue.sendBatch(part.map(({ body, contentType }) => ({ body, contentType })));
      } catch (err) {
        log("error", { event: "dlq.redrive_failed", queue: target, error: errorText(err) });
        return { redriven, skipped, failed: `sending to ${target} failed: ${errorText(err)}` };
      }
      await env.DB.prepare("UPDATE dead_letters SET redriven_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))")
        .bind(now.toISOString(), JSON.stringify(part.map((r) => r.id)))
        .run();
      redriven += part.length;
    }
  }
  skipped = rows.results.filter((r) => r.queue !== "ingest" && r.queue !== "jobs").length;
  log("info", { event: "dlq.redriven", records: redriven, skipped });
  return { redriven, skipped, failed: null };
}

export async function listDeadLetters(d1: D1Database, limit = 100) {
  const rows = await d1
    .prepare(
      "SELECT id, queue, source, stream, attempts, parked_at, substr(body, 1, 500) AS body_head FROM dead_letters WHERE redriven_at IS NULL ORDER BY parked_at DESC LIMIT ?1",
    )
    .bind(limit)
    .all();
  return rows.results;
}
