import { Hono } from "hono";
import { adminRoutes } from "./admin/routes";
import { fileRoutes } from "./files/route";
import { cdcRoutes } from "./ingest/cdc-route";
import { errorText, log } from "./lib/log";
import { sidecarHealthRoutes } from "./ops/sidecar-health";
import { findSource } from "./sources/registry";
import { webhookRoutes } from "./webhooks/route";

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();
  app.route("/", webhookRoutes(findSource));
  app.route("/", cdcRoutes(findSource));
  app.route("/", sidecarHealthRoutes(findSource));
  app.route("/", fileRoutes());
  app.route("/", adminRoutes());
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((err, c) => {
    log("error", { event: "http.unhandled", error: errorText(err), path: new URL(c.req.url).pathname });
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
