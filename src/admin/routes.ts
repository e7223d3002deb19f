import { Hono } from "hono";
import type { Context } from "hono";
import * as z from "zod";
import { isReadableKey } from "../envelope/raw-keys";
import { d1RecordLedger, type LedgerEnv, recordLedger } from "../ledger";
import { type AuditVariables, auditTrail, listAudit } from "../ops/audit";
import { setPaused } from "../ops/controls";
import { listDeadLetters, redriveDeadLetters } from "../ops/dlq";
import { fleetStatus } from "../ops/fleet";
import { setStreamSlo, sloBody } from "../ops/slo-store";
import type { PollEnv } from "../pollers/run-poll";
import { reconcileSourceNow } from "../reconcile/admin";
import type { ReconcileEnv } from "../reconcile/run-reconcile";
import { statusPageRoutes } from "../status-page/routes";
import type { SourceDefinition } from "../sources/define-source";
import { findSource as registryFind, sources as registrySources } from "../sources/registry";
import {
  type ActionResult,
  backfill,
  backfillBody,
  cursorBody,
  listRuns,
  reconcileBody,
  reconcileNow,
  runNow,
  runsQuery,
  setCursor,
} from "./actions";
import { adminAuth } from "./auth";
import { testRead, testReadBody } from "./test-read";
import { statusJsonSchema } from "../ops/status-schema";
import { streamStatus } from "./status";

interface AdminEnv {
  ADMIN_TOKEN?: string;
  RAW: R2Bucket;
  DB: D1Database;
  JOBS: Queue<unknown>;
  INGEST: Queue<unknown>;
}
type AdminContext = Context<{ Bindings: AdminEnv; Variables: AuditVariables }>;

const streamName = z.object({ source: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/), stream: z.string().min(1).max(128) });

/** A JSON body checked by a schema; a missing body counts as `{}`. */
async function body<T extends z.ZodType>(c: AdminContext, schema: T): Promise<z.infer<T> | Response> {
  let json: unknown = {};
  const text = await c.req.text();
  if (text.trim()) {
    try {
      json = JSON.parse(text);
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return c.json({ error: `invalid body at ${issue?.path.join(".") || "(root)"}: ${issue?.message}` }, 400);
  }
  return parsed.data;
}

function answer(c: AdminContext, action: string, result: ActionResult) {
  c.set("auditAction", action);
  if (result.status < 300) c.set("auditParams", result.body);
  return c.json(result.body, result.status);
}

/**
 * The admin API (Bearer ADMIN_TOKEN, every call recorded in admin_audit): the raw zone, the
 * status of every stream, and the operator's levers. See docs/operations.md.
 */
export function adminRoutes(
  sources: readonly SourceDefinition[] = registrySources,
  find: (name: string) => SourceDefinition | undefined = registryFind,
) {
  const app = new Hono<{ Bindings: AdminEnv; Variables: AuditVariables }>();
  app.use("/admin/*", auditTrail(), adminAuth());
  app.use("/status", auditTrail(), adminAuth());

  app.use("/status/schema", auditTrail(), adminAuth());

  app.get("/status", async (c) => c.json(await streamStatus(c.env.DB, sources, new Date(), c.env as unknown as Record<string, unknown>)));

  // The JSON Schema of GET /status, generated from the zod schemas the answer is built and tested against.
  app.get("/status/schema", (c) => c.json(statusJsonSchema()));

  app.get("/admin/health", async (c) =>
    c.json(await fleetStatus(c.env.DB, sources, new Date(), c.env as unknown as Record<string, unknown>)),
  );

  app.get("/admin/runs", async (c) => {
    const q = runsQuery.safeParse(c.req.query());
    if (!q.success) return c.json({ error: q.error.issues[0]?.message ?? "invalid query" }, 400);
    c.set("auditAction", "list runs");
    return c.json({ runs: await listRuns(c.env.DB, q.data) });
  });

  app.post("/admin/streams/:source/:stream/run", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    const b = await body(c, z.object({ pattern: z.enum(["poll", "full_refresh"]).optional(), force: z.boolean().optional() }));
    if (b instanceof Response) return b;
    return answer(c, "run stream", await runNow(c.env, find, name.data.source, name.data.stream, b));
  });

  app.put("/admin/streams/:source/:stream/cursor", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    const b = await body(c, cursorBody);
    if (b instanceof Response) return b;
    return answer(
      c,
      b.cursor === null ? "reset cursor" : "set cursor",
      await setCursor(c.env, find, name.data.source, name.data.stream, b.cursor),
    );
  });

  app.delete("/admin/streams/:source/:stream/cursor", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    return answer(c, "reset cursor", await setCursor(c.env, find, name.data.source, name.data.stream, null));
  });

  app.post("/admin/streams/:source/:stream/backfill", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    const b = await body(c, backfillBody);
    if (b instanceof Response) return b;
    return answer(c, "backfill", await backfill(c.env, find, name.data.source, name.data.stream, b));
  });

  // One page, read as a run reads it and answered instead of landed (docs/polling.md, `dock test-read`).
  app.post("/admin/streams/:source/:stream/test-read", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    const b = await body(c, testReadBody);
    if (b instanceof Response) return b;
    const out = await testRead(c.env as unknown as PollEnv, find, name.data.source, name.data.stream, b);
    c.set("auditAction", "test read");
    // The audit keeps what was read, never the records.
    if (out.status === 200) c.set("auditParams", { records: out.body.records, request: out.body.request, next: out.body.next });
    return c.json(out.body, out.status);
  });

  app.put("/admin/streams/:source/:stream/slo", async (c) => {
    const name = streamName.safeParse(c.req.param());
    if (!name.success) return c.json({ error: "invalid source or stream name" }, 400);
    const b = await body(c, sloBody);
    if (b instanceof Response) return b;
    await setStreamSlo(c.env.DB, name.data.source, name.data.stream, b);
    return answer(c, "declare slo", { status: 200, body: { source: name.data.source, stream: name.data.stream, ...b } });
  });

  app.post("/admin/sources/:source/pause", async (c) => {
    const source = c.req.param("source");
    if (!find(source)) return answer(c, "pause source", { status: 404, body: { error: `no source named ${JSON.stringify(source)}` } });
    const b = await body(c, z.object({ reason: z.string().max(500).optional() }));
    if (b instanceof Response) return b;
    await setPaused(c.env.DB, source, true, c.get("actor") ?? "unknown", b.reason ?? null);
    return answer(c, "pause source", { status: 200, body: { source, paused: true, reason: b.reason ?? null } });
  });

  app.post("/admin/sources/:source/resume", async (c) => {
    const source = c.req.param("source");
    if (!find(source)) return answer(c, "resume source", { status: 404, body: { error: `no source named ${JSON.stringify(source)}` } });
    await setPaused(c.env.DB, source, false, c.get("actor") ?? "unknown", null);
    return answer(c, "resume source", { status: 200, body: { source, paused: false } });
  });

  app.post("/admin/sources/:source/reconcile", async (c) => {
    const b = await body(c, reconcileBody);
    if (b instanceof Response) return b;
    if (b.wait) {
      // Answers with what the run counted so far: listed, held/received, recovered, missing (202 when it continues on JOBS).
      const { from, to } = b;
      const result = await reconcileSourceNow(c.env as unknown as ReconcileEnv, find, c.req.param("source"), { from, to });
      return answer(c, "reconcile source", result as ActionResult);
    }
    return answer(c, "reconcile source", await reconcileNow(c.env, find, c.req.param("source"), b));
  });

  app.get("/admin/dlq", async (c) => c.json({ letters: await listDeadLetters(c.env.DB) }));

  // The record ledger's size: the configured one (each shard's SQLite when sharded) and D1's own.
  app.get("/admin/ledger", async (c) => {
    const env = c.env as unknown as LedgerEnv;
    return c.json({ ledger: await recordLedger(env).storage(), d1: await d1RecordLedger(env).storage() });
  });

  app.post("/admin/dlq/redrive", async (c) => {
    const b = await body(
      c,
      z.object({
        queue: z.enum(["ingest", "jobs", "files"]).optional(),
        ids: z.array(z.string().max(200)).max(500).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      }),
    );
    if (b instanceof Response) return b;
    const result = await redriveDeadLetters(c.env, b);
    return answer(c, "redrive dlq", { status: result.failed ? 503 : 200, body: result });
  });

  app.get("/admin/audit", async (c) => {
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? "100") || 100));
    return c.json({ calls: await listAudit(c.env.DB, limit) });
  });

  app.get("/admin/raw", async (c) => {
    const prefix = c.req.query("prefix") ?? "raw/";
    if (!isReadableKey(prefix.endsWith("/") ? `${prefix}x` : prefix))
      return c.json({ error: "prefix must start with raw/, files/, blobs/ or quarantine/" }, 400);
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? "1000") || 1000));
    const listed = await c.env.RAW.list({ prefix, limit, cursor: c.req.query("cursor") || undefined });
    return c.json({
      objects: listed.objects.map((o) => ({ key: o.key, size: o.size, uploaded: o.uploaded.toISOString(), etag: o.etag })),
      cursor: listed.truncated ? listed.cursor : null,
    });
  });

  app.get("/admin/raw/*", async (c) => {
    const key = decodeURIComponent(new URL(c.req.url).pathname.slice("/admin/raw/".length));
    if (!isReadableKey(key)) return c.json({ error: "invalid key" }, 400);
    const object = await c.env.RAW.get(key);
    if (!object) return c.json({ error: "no such object" }, 404);
    return new Response(object.body, {
      headers: {
        "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
        "content-length": String(object.size),
        etag: object.httpEtag,
      },
    });
  });

  app.route("/", statusPageRoutes(sources));
  return app;
}
