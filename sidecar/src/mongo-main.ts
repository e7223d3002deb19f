import path from "node:path";
import { MongoClient } from "mongodb";
import * as z from "zod";
import { newRunId } from "./clock";
import { SignedSender } from "./delivery/signed-sender";
import { errorText, log, registerSecrets } from "./log";
import { MongoCdc } from "./mongo/mongo-cdc";
import { TokenFile } from "./mongo/token-file";
import { type StartupProblem, startupExitCode } from "./startup/problem";
import { movedStateProblem, stateDirOf, stateDirProblem } from "./startup/state-dir";
import { workerProblem } from "./startup/worker-check";

/**
 * MongoDB change streams into Loading Dock:
 *   MONGO_URL=mongodb://… WORKER_URL=… CDC_INGEST_SECRET=whsec_… node sidecar/dist/mongo-main.mjs
 * Needs a replica set or sharded cluster (change streams do not exist on a standalone server).
 */
const schema = z.object({
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URL"),
  MONGO_DB: z.string().optional(),
  MONGO_COLLECTION: z.string().optional(),
  /** Unset: `mongo-<CDC_SOURCE>-resume-token.json` in the state directory (DOCK_STATE_DIR). */
  MONGO_TOKEN_FILE: z.string().optional(),
  MONGO_BATCH_RECORDS: z.coerce.number().int().positive().default(1000),
  MONGO_SERVER_SELECTION_MS: z.coerce.number().int().positive().default(30_000),
  WORKER_URL: z.url(),
  CDC_INGEST_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/),
  CDC_SOURCE: z.string().default("app_mongo"),
  DOCK_STATE_DIR: z.string().optional(),
  /** How long the start-up check waits for an unreachable Worker. */
  CDC_STARTUP_WAIT_MS: z.coerce.number().int().nonnegative().default(15_000),
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
  const tokenFile = path.resolve(
    c.MONGO_TOKEN_FILE ?? path.join(stateDirOf(process.env, c.DOCK_STATE_DIR), `mongo-${c.CDC_SOURCE}-resume-token.json`),
  );
  const problems: StartupProblem[] = [];
  const dir = stateDirProblem(path.dirname(tokenFile));
  if (dir) problems.push({ message: dir });
  const moved = c.MONGO_TOKEN_FILE ? null : movedStateProblem(tokenFile, "mongo-resume-token.json", "MONGO_TOKEN_FILE");
  if (moved) problems.push({ message: moved });
  const worker = await workerProblem({
    workerUrl: c.WORKER_URL,
    secret: c.CDC_INGEST_SECRET,
    source: c.CDC_SOURCE,
    waitMs: c.CDC_STARTUP_WAIT_MS,
  });
  if (worker) problems.push(worker);
  for (const p of problems) log("error", { event: "mongo.start_refused", source: c.CDC_SOURCE, error: p.message });
  if (problems.length > 0) return startupExitCode(problems);
  const client = new MongoClient(c.MONGO_URL, { serverSelectionTimeoutMS: c.MONGO_SERVER_SELECTION_MS });
  const tokens = new TokenFile(tokenFile);
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
