import { createApp } from "./app";
import { processFileEvents } from "./files/notifications";
export { RateLimiter } from "./pollers/rate-limiter-do";
import { processIngestBatch } from "./queue-consumers/ingest-consumer";
import { processJobsBatch } from "./queue-consumers/jobs-consumer";
import { handleScheduled } from "./scheduled";
import { isDeadLetterQueue, parkDeadLetters } from "./ops/dlq";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await handleScheduled(controller, env);
  },
  async queue(batch, env) {
    // Dead-letter queues first: their names start like the queues they serve.
    if (isDeadLetterQueue(batch.queue)) await parkDeadLetters(env, batch);
    else if (batch.queue.startsWith("loading-dock-ingest")) await processIngestBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-jobs")) await processJobsBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-files")) await processFileEvents(env, batch);
    else throw new Error(`no consumer for queue ${batch.queue}`);
  },
} satisfies ExportedHandler<Env>;
