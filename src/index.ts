import { createApp } from "./app";
import { processFileEvents } from "./files/notifications";
export { RateLimiter } from "./pollers/rate-limiter-do";
import { processIngestBatch } from "./queue-consumers/ingest-consumer";
import { processJobsBatch } from "./queue-consumers/jobs-consumer";
import { handleScheduled } from "./scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await handleScheduled(controller, env);
  },
  async queue(batch, env) {
    if (batch.queue.startsWith("loading-dock-ingest")) await processIngestBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-jobs")) await processJobsBatch(env, batch);
    else if (batch.queue.startsWith("loading-dock-files")) await processFileEvents(env, batch);
    else throw new Error(`no consumer for queue ${batch.queue}`);
  },
} satisfies ExportedHandler<Env>;
