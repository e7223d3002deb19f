import { randomUUID } from "node:crypto";
import { backoffMs, isRetryableStatus } from "../delivery/backoff";
import { signingKey, standardWebhookSignature } from "../delivery/signature";
import type { StartupProblem } from "./problem";

export interface WorkerCheck {
  workerUrl: string;
  secret: string;
  source: string;
  /** How long an unreachable Worker (or one answering 5xx) is waited for. */
  waitMs: number;
}

/**
 * Asks the Worker, before anything is read, whether it would take this sidecar's deliveries: a
 * signed POST /ingest/cdc carrying one empty bundle of the sidecar's source. The Worker checks it
 * as it checks every delivery — the signature against its CDC_INGEST_SECRET (401), the source
 * against its CDC_SOURCES (403) — and, with no record in it, queues nothing. Without this, a wrong
 * secret or an undeclared source surfaced only at the first change, possibly days later.
 */
export async function workerProblem(c: WorkerCheck): Promise<StartupProblem | null> {
  const url = `${c.workerUrl.replace(/\/$/, "")}/ingest/cdc`;
  const body = Buffer.from(
    JSON.stringify({
      bundles: [
        {
          kind: "bundle",
          v: 1,
          source: c.source,
          stream: "_startup_check",
          pattern: "cdc",
          received_at: new Date().toISOString(),
          records: [],
        },
      ],
    }),
  );
  const key = signingKey(c.secret);
  const until = Date.now() + c.waitMs;
  let last = "";
  for (let attempt = 0; ; attempt++) {
    const id = `startup-${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(ts),
          "webhook-signature": standardWebhookSignature(key, id, ts, body),
        },
        body,
        signal: AbortSignal.timeout(Math.max(1000, Math.min(10_000, until - Date.now()))),
      });
      const text = (await res.text()).slice(0, 500);
      if (res.ok) return null;
      if (!isRetryableStatus(res.status)) return refusal(res.status, text, c, url);
      last = `it answered ${res.status} ${text}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      last = `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`;
    }
    const wait = Math.max(250, backoffMs(attempt, 500, 4000));
    if (Date.now() + wait >= until) break;
    await new Promise((r) => setTimeout(r, wait));
  }
  return {
    transient: true,
    message: `the Worker at WORKER_URL (${c.workerUrl}) could not be reached for ${Math.round(c.waitMs / 1000)} s: ${last}. Check WORKER_URL (the Worker's base URL, e.g. https://loading-dock.<account>.workers.dev) and that the Worker is deployed and reachable from here`,
  };
}

function refusal(status: number, text: string, c: WorkerCheck, url: string): StartupProblem {
  const said = errorOf(text);
  switch (status) {
    case 401:
      return {
        message: `the Worker refused this sidecar's signature (401): CDC_INGEST_SECRET is not the Worker's CDC_INGEST_SECRET. Set the same whsec_… value on both sides (npx wrangler secret put CDC_INGEST_SECRET, or .dev.vars locally)`,
      };
    case 403:
      return {
        message: `the Worker refused source "${c.source}" (403: ${said}). Add "${c.source}" to the Worker's CDC_SOURCES (wrangler.toml [vars], or .dev.vars locally) and deploy, or set CDC_SOURCE to a declared source`,
      };
    case 404:
      return {
        message: `${url} answered 404: either WORKER_URL (${c.workerUrl}) is not the Loading Dock Worker's base URL, or the Worker has no CDC_INGEST_SECRET set (its sidecar door is closed until it has one)`,
      };
    default:
      return {
        message: `the Worker refused the start-up check with ${status} (${said}): is WORKER_URL (${c.workerUrl}) a Loading Dock Worker of the same version as this sidecar?`,
      };
  }
}

function errorOf(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === "string") return e;
  } catch {}
  return text || "no body";
}
