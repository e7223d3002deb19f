import { Hono } from "hono";
import { errorText, log, redact } from "../lib/log";
import { isAuthorized, filesToken } from "./auth";
import { maxFileBytes, readFilesConfig } from "./config";
import type { FilesEnv } from "./env";
import { LengthMismatch, landFile } from "./land";
import { fileNameProblem, isFileSource } from "./names";

const json = (status: number, body: unknown, headers?: HeadersInit) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/**
 * PUT /files/:source/:name — authenticate (bearer `<SOURCE>_FILES_TOKEN` or a signed URL), check
 * the name and the declared length, stream the body into R2, answer once the ledger knows the file
 * and its first parse step is queued. 201 landed, 200 duplicate (same bytes already landed).
 */
export async function handleFilePut(request: Request, env: FilesEnv, source: string, name: string): Promise<Response> {
  const started = Date.now();
  const token = isFileSource(source) ? filesToken(env, source) : null;
  // An unknown source and one that takes no files look the same from outside.
  if (!token) return json(404, { error: "unknown source" });
  if (!(await isAuthorized(request, token, Math.floor(Date.now() / 1000)))) {
    log("warn", { event: "file.rejected", source, pattern: "file", ms: Date.now() - started });
    return json(401, { error: "unauthorized" }, { "www-authenticate": "Bearer" });
  }
  const problem = fileNameProblem(name);
  if (problem) return json(400, { error: problem });

  const declared = request.headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared))
    return json(411, { error: "Content-Length is required (the file is streamed to storage)" });
  const size = Number(declared);
  const limit = maxFileBytes(readFilesConfig(env.FILES_CONFIG), source, env.FILES_MAX_BYTES);
  if (size > limit) return json(413, { error: `file larger than ${limit} bytes` });

  try {
    const result = await landFile(env, { source, name, body: request.body ?? new Blob([]).stream(), size, origin: "put" });
    log("info", { event: `file.put.${result.status}`, source, pattern: "file", run_id: result.run_id, ms: Date.now() - started });
    return json(result.status === "landed" ? 201 : 200, { ok: true, ...result });
  } catch (err) {
    const error = redact(errorText(err), [token]);
    if (err instanceof LengthMismatch) return json(400, { error });
    log("error", { event: "file.put.failed", source, pattern: "file", error, ms: Date.now() - started });
    return json(503, { error: "could not store the file; retry later" }, { "retry-after": "5" });
  }
}

export function fileRoutes<E extends { Bindings: FilesEnv }>() {
  const app = new Hono<E>();
  app.put("/files/:source/:name", (c) => handleFilePut(c.req.raw, c.env, c.req.param("source"), c.req.param("name")));
  return app;
}
