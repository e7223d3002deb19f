import { MongoClient } from "mongodb";
import * as z from "zod";
import { newRunId } from "./clock";
import { SignedSender } from "./delivery/signed-sender";
import { errorText, log, registerSecrets } from "./log";
import { MongoCdc } from "./mongo/mongo-cdc";
import { TokenFile } from "./mongo/token-file";

/**
 * MongoDB change streams into Loading Dock:
 *   MONGO_URL=mongodb://… WORKER_URL=… CDC_INGEST_SECRET=whsec_… tsx sidecar/src/mongo-main.ts
 * Needs a replica set or sharded cluster (change streams do not exist on a standalone server).
 */
const schema = z.object({
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URL"),
  MONGO_DB: z.string().optional(),
  MONGO_COLLECTION: z.string().optional(),
  MONGO_TOKEN_FILE: z.string().default("./mongo-resume-token.json"),
  MONGO_BATCH_RECORDS: z.coerce.number().int().positive().default(1000),
  MONGO_SERVER_SELECTION_MS: z.coerce.number().int().positive().default(30_000),
  WORKER_URL: z.url(),
  CDC_INGEST_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/),
  CDC_SOURCE: z.string().default("app_mongo"),
});

async function main(): Promise<number> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    log("error", {
      event: "mongo.config_invalid",
      error: parsed.error.issues.map((i) => `${i.message} (setting ${i.path.join(".")})`).join("; "),
    });
    return 2;
  }
  const c = parsed.data;
  registerSecrets([c.CDC_INGEST_SECRET, c.MONGO_URL]);
  const client = new MongoClient(c.MONGO_URL, { serverSelectionTimeoutMS: c.MONGO_SERVER_SELECTION_MS });
  const tokens = new TokenFile(c.MONGO_TOKEN_FILE);
  const resumeAfter = tokens.read();
  const target = c.MONGO_DB ? (c.MONGO_COLLECTION ? client.db(c.MONGO_DB).collection(c.MONGO_COLLECTION) : client.db(c.MONGO_DB)) : client;
  const stream = target.watch([], { fullDocument: "updateLookup", ...(resumeAfter ? { resumeAfter } : {}) });
  const sender = new SignedSender({ url: `${c.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`, secret: c.CDC_INGEST_SECRET });
  const cdc = new MongoCdc(stream, {
    source: c.CDC_SOURCE,
    runId: newRunId("mongo"),
    maxRecords: c.MONGO_BATCH_RECORDS,
    idleMs: 200,
    deliver: (id, body) => sender.send(id, body),
    saveToken: (t) => tokens.write(t),
  });
  process.on("SIGTERM", () => cdc.stop());
  process.on("SIGINT", () => cdc.stop());
  try {
    await cdc.run();
    return 0;
  } catch (err) {
    log("error", { event: "mongo.failed", source: c.CDC_SOURCE, error: errorText(err) });
    return 1;
  } finally {
    await client.close().catch(() => {});
  }
}

main().then((code) => process.exit(code));
