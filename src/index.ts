import { createApp } from "./app";
import { processFileEvents } from "./files/notifications";
import { rememberSecrets } from "./lib/log";
export { RateLimiter } from "./pollers/rate-limiter-do";
export { LedgerShard } from "./ledger/ledger-shard";
import { processIngestBatch } from "./queue-consumers/ingest-consumer";
import { processJobsBatch } from "./queue-consumers/jobs-consumer";
import { handleScheduled } from "./scheduled";
import { isDeadLetterQueue, parkDeadLetters } from "./ops/dlq";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    rememberSecrets(env as unknown as Record<string, unknown>);
    return app.fetch(request, env, ctx);
  },
  async scheduled(controller, env) {
    rememberSecrets(env as unknown as Record<string, unknown>);
    await handleScheduled(controller, env);
  },
  async queue(batch, env) {
    rememberSecrets(env as unknown as Record<string, unknown>);
    // Dead-letter queues first: their names start like the queues they serve.
    if (isDeadLetterQueue(batch.queue)) await parkDeadLetters(env, batch);
    else if (batch.queue.startsWith("loading-dock-ingest")) await processIngestBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-jobs")) await processJobsBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-files")) await processFileEvents(env, batch);
    else throw new Error(`no consumer for queue ${batch.queue}`);
  },
} satisfies ExportedHandler<Env>;
