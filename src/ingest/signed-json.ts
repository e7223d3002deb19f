import type * as z from "zod";
import { safeParseFast } from "../envelope/bundle";
import { log } from "../lib/log";
import { BodyTooLarge, readBodyLimited } from "../webhooks/read-body";
import { standardWebhooksScheme } from "../webhooks/schemes/standard-webhooks";
import { verifySignature } from "../webhooks/verify";

export interface SidecarSecrets {
  CDC_INGEST_SECRET?: string;
  CDC_INGEST_SECRET_PREVIOUS?: string;
}

/**
 * The sidecar's doors (/ingest/cdc, /ingest/health) share one gate: off (404) without a secret,
 * the body read within a limit (413), the Standard Webhooks signature over the raw bytes with the
 * current or previous secret (401), JSON (400), and the shape (422, naming the field). Every refusal
 * but the closed door logs one `sidecar.rejected` line, as a refused webhook does. A `fast` schema
 * (same verdict, cheaper on large bodies) is tried first; `schema` decides and words the error.
 */
export async function signedJson<S extends z.ZodType>(
  request: Request,
  env: SidecarSecrets,
  schema: S,
  limit: number,
  what: string,
  fast?: z.ZodType<z.infer<S>>,
): Promise<{ ok: true; data: z.infer<S>; body: Uint8Array } | { ok: false; response: Response }> {
  const refuse = (status: 400 | 401 | 404 | 413 | 422, error: string) => {
    if (status === 404) return { ok: false as const, response: Response.json({ error }, { status }) };
    return { ok: false as const, response: sidecarRefusal(request, status, error) };
  };
  const secrets = [env.CDC_INGEST_SECRET, env.CDC_INGEST_SECRET_PREVIOUS].filter((s): s is string => !!s);
  if (secrets.length === 0) return refuse(404, "not found");
  let body: Uint8Array;
  try {
    body = await readBodyLimited(request, limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) return refuse(413, `body larger than ${err.limit} bytes`);
    return refuse(400, "could not read the body");
  }
  const req = { method: "POST", url: request.url, headers: request.headers, body };
  const ok = await verifySignature(standardWebhooksScheme, req, secrets, {
    nowSeconds: Math.floor(Date.now() / 1000),
    toleranceSeconds: 300,
  });
  if (!ok) return refuse(401, "invalid signature");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return refuse(400, "body is not JSON");
  }
  const parsed = fast ? safeParseFast(fast, schema as z.ZodType<z.infer<S>>, json) : schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(422, `invalid ${what} at ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return { ok: true, data: parsed.data, body };
}

/** A refusal at a sidecar door: the answer, and the one `sidecar.rejected` log line every refusal writes. */
export function sidecarRefusal(request: Request, status: 400 | 401 | 403 | 413 | 422, error: string): Response {
  log("warn", { event: "sidecar.rejected", pattern: "cdc", path: new URL(request.url).pathname, status, error });
  return Response.json({ error }, { status });
}
