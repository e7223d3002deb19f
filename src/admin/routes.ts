import { Hono } from "hono";
import { isReadableKey } from "../envelope/raw-keys";
import { adminAuth } from "./auth";
import { streamStatus } from "./status";

interface AdminEnv {
  ADMIN_TOKEN?: string;
  RAW: R2Bucket;
  DB: D1Database;
}

/** The read-only admin API: list and fetch raw objects, and the status of every stream. */
export function adminRoutes() {
  const app = new Hono<{ Bindings: AdminEnv }>();
  app.use("/admin/*", adminAuth());
  app.use("/status", adminAuth());

  app.get("/status", async (c) => c.json(await streamStatus(c.env.DB)));

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
  return app;
}
