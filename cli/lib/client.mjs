import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { loadDevVars } from "../../scripts/dev-vars.mjs";

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** Local secrets from .dev.vars, or nothing when there is none (a deployed Worker needs DOCK_ADMIN_TOKEN). */
export function devVars(root = process.cwd()) {
  return existsSync(join(root, ".dev.vars")) || existsSync(join(root, ".dev.vars.example")) ? loadDevVars(root) : {};
}

/** Where the Worker is and how to prove we are its admin: flags, then DOCK_URL / DOCK_ADMIN_TOKEN, then local defaults. */
export function connection(opts = {}, env = process.env, root = process.cwd()) {
  const url = (opts.url ?? env.DOCK_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  const token = opts.token ?? env.DOCK_ADMIN_TOKEN ?? devVars(root).ADMIN_TOKEN;
  if (!token) throw new Error("no admin token: pass --token, set DOCK_ADMIN_TOKEN, or run from a checkout with .dev.vars");
  return { url, token };
}

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${typeof body === "object" && body?.error ? body.error : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

/** One admin call; the caller's login name travels as X-Dock-Actor (audited next to the token's fingerprint). */
export async function api({ url, token }, method, path, body) {
  const headers = { authorization: `Bearer ${token}`, "x-dock-actor": safeUser() };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new Error(`cannot reach ${url} (${err.cause?.code ?? err.message}); is \`npm run dev\` running, or is --url right?`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

function safeUser() {
  try {
    return `cli:${userInfo().username}`.slice(0, 100);
  } catch {
    return "cli";
  }
}

/** `app_db.public.orders` → source `app_db`, stream `public.orders` (a source name has no dot). */
export function splitStream(name) {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) throw new Error(`expected <source>.<stream>, got ${JSON.stringify(name)}`);
  return { source: name.slice(0, dot), stream: name.slice(dot + 1) };
}

export const streamPath = ({ source, stream }) => `/admin/streams/${encodeURIComponent(source)}/${encodeURIComponent(stream)}`;
