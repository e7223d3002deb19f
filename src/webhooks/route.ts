import { Hono } from "hono";
import type { BundleRecord } from "../envelope/bundle";
import { payloadOf } from "../envelope/envelope";
import { isSafeSegment } from "../envelope/raw-keys";
import { enqueueRecords, type IngestBindings } from "../ingest/enqueue";
import { errorText, log } from "../lib/log";
import type { SourceDefinition } from "../sources/define-source";
import { BodyTooLarge, readBodyLimited } from "./read-body";
import { webhookSecrets } from "./secrets";
import { recordsToEnvelopes, UNPARSED_STREAM, unparsedEnvelope } from "./to-envelopes";
import type { WebhookRecord, WebhookRequest } from "./types";
import { verifySignature } from "./verify";

export interface WebhookEnv extends IngestBindings {
  WEBHOOK_MAX_BODY_BYTES?: string;
  /** The public origin vendors call, when a proxy rewrites the Host the Worker sees. */
  PUBLIC_BASE_URL?: string;
}

const json = (status: number, body: unknown, headers?: HeadersInit) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

function publicUrl(request: Request, base: string | undefined): string {
  if (!base) return request.url;
  const url = new URL(request.url);
  return `${base.replace(/\/$/, "")}${url.pathname}${url.search}`;
}

/**
 * POST /webhooks/:source — look up, read within the limit, verify, extract, enqueue, answer.
 * 2xx only once INGEST has accepted every record; 401 says nothing about why.
 */
export async function handleWebhook(
  request: Request,
  env: WebhookEnv,
  name: string,
  find: (name: string) => SourceDefinition | undefined,
): Promise<Response> {
  const started = Date.now();
  const source = find(name);
  const secrets = source?.webhook ? webhookSecrets(env, source.name) : [];
  // An unknown source and a known one without a secret look the same from outside.
  if (!source?.webhook || secrets.length === 0) return json(404, { error: "unknown source" });
  const spec = source.webhook;

  let body: Uint8Array;
  try {
    body = await readBodyLimited(request, spec.maxBodyBytes ?? Number(env.WEBHOOK_MAX_BODY_BYTES ?? 1_048_576));
  } catch (err) {
    if (err instanceof BodyTooLarge) return json(413, { error: `body larger than ${err.limit} bytes` });
    return json(400, { error: "could not read the body" });
  }

  const req: WebhookRequest = { method: request.method, url: publicUrl(request, env.PUBLIC_BASE_URL), headers: request.headers, body };
  const config = configValues(env, spec.config);
  const ctx = { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: spec.toleranceSeconds ?? 300, config };
  if (!(await verifySignature(spec.scheme, req, secrets, ctx))) {
    log("warn", { event: "webhook.rejected", source: source.name, pattern: "webhook", ms: Date.now() - started });
    return json(401, { error: "invalid signature" });
  }

  const receivedAt = new Date().toISOString();
  const envCtx = { source: source.name, pattern: "webhook" as const, receivedAt, runId: `wh-${crypto.randomUUID()}` };
  const { payload, text, parsed } = payloadOf(body);
  let byStream: Map<string, BundleRecord[]>;
  let records: WebhookRecord[] | null = null;
  let reason = text === null ? "body is not UTF-8" : parsed === undefined ? "body is not JSON" : "";
  if (text !== null && (parsed !== undefined || spec.body === "text")) {
    reason = "";
    try {
      records = await spec.records({ text, json: parsed, headers: request.headers, url: req.url });
      if (records.length === 0) reason = "no records in the body";
      const unsafe = records.find((r) => !isSafeSegment(r.stream));
      if (unsafe) throw new Error(`stream name ${JSON.stringify(unsafe.stream.slice(0, 64))} is not a safe key segment`);
    } catch (err) {
      records = null;
      reason = `unexpected body: ${errorText(err)}`;
    }
  }
  if (records && records.length > 0 && text !== null) {
    byStream = await recordsToEnvelopes(envCtx, records, text);
  } else {
    byStream = new Map([[UNPARSED_STREAM, [await unparsedEnvelope(envCtx, body, payload, reason)]]]);
  }

  let count = 0;
  try {
    for (const [stream, list] of byStream) {
      await enqueueRecords(env, { source: source.name, stream, pattern: "webhook", received_at: receivedAt, run_id: envCtx.runId }, list);
      count += list.length;
    }
  } catch (err) {
    log("error", {
      event: "webhook.enqueue_failed",
      source: source.name,
      pattern: "webhook",
      error: errorText(err),
      ms: Date.now() - started,
    });
    return json(503, { error: "could not queue the webhook; retry later" }, { "retry-after": "5" });
  }
  log("info", {
    event: byStream.has(UNPARSED_STREAM) ? "webhook.kept_raw" : "webhook.accepted",
    source: source.name,
    pattern: "webhook",
    run_id: envCtx.runId,
    records: count,
    ms: Date.now() - started,
    ...(reason ? { error: reason } : {}),
  });
  return spec.respond ? spec.respond({ records: count }) : json(200, { ok: true, records: count });
}

/** The values of the variables a spec names, as strings (absent ones undefined). */
function configValues(env: object, names: readonly string[] | undefined): Record<string, string | undefined> {
  const vars = env as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const name of names ?? []) {
    const value = vars[name];
    out[name] = typeof value === "string" && value.length > 0 ? value : undefined;
  }
  return out;
}

/** GET /webhooks/:source — a vendor's subscription handshake, for sources that define one. */
export async function handleHandshake(
  request: Request,
  env: WebhookEnv,
  name: string,
  find: (name: string) => SourceDefinition | undefined,
): Promise<Response> {
  const spec = find(name)?.webhook;
  if (!spec?.handshake) return json(404, { error: "unknown source" });
  return spec.handshake({ url: new URL(request.url), headers: request.headers, config: configValues(env, spec.config) });
}

export function webhookRoutes<E extends { Bindings: WebhookEnv }>(find: (name: string) => SourceDefinition | undefined) {
  const app = new Hono<E>();
  app.post("/webhooks/:source", (c) => handleWebhook(c.req.raw, c.env, c.req.param("source"), find));
  app.get("/webhooks/:source", (c) => handleHandshake(c.req.raw, c.env, c.req.param("source"), find));
  return app;
}
