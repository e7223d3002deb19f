import http from "node:http";
import https from "node:https";
import { backoffMs, isRetryableStatus, retryAfterMs } from "./backoff";
import { signingKey, standardWebhookSignature } from "./signature";

export class DeliveryRejected extends Error {
  override name = "DeliveryRejected";
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`the Worker rejected a delivery with ${status}: ${body.slice(0, 300)}`);
  }
}

export class DeliveryAborted extends Error {
  override name = "DeliveryAborted";
}

/** A request body: text, bytes, or pieces sent back to back (never copied into one buffer). */
export type DeliveryBody = string | Buffer | readonly Buffer[];

export interface SenderOptions {
  url: string;
  secret: string;
  timeoutMs?: number;
  maxBackoffMs?: number;
  onRetry?: (info: { attempt: number; waitMs: number; status?: number; error?: string }) => void;
}

/**
 * POSTs a delivery body to the Worker, signed with the Standard Webhooks scheme (re-signed on
 * every attempt so a long retry never presents a stale timestamp). Retries network errors, 408,
 * 429 and 5xx forever with backoff and jitter, honouring Retry-After; any other status is a
 * DeliveryRejected the caller must treat as fatal. Resolves only on a 2xx.
 */
export class SignedSender {
  private readonly key: Buffer;
  private aborted = false;
  private readonly wakers = new Set<() => void>();
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly opts: SenderOptions) {
    this.key = signingKey(opts.secret);
    this.url = new URL(opts.url);
    const Agent = this.url.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }

  abort(): void {
    this.aborted = true;
    this.agent.destroy();
    for (const wake of this.wakers) wake();
  }

  async send(messageId: string, payload: DeliveryBody): Promise<void> {
    const body = typeof payload === "string" ? [Buffer.from(payload, "utf8")] : Buffer.isBuffer(payload) ? [payload] : payload;
    let length = 0;
    for (const piece of body) length += piece.length;
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new DeliveryAborted("delivery aborted by shutdown");
      let status: number | undefined;
      let error: string | undefined;
      let wait: number | null = null;
      try {
        const ts = Math.floor(Date.now() / 1000);
        const res = await this.post(body, {
          "content-type": "application/json",
          "content-length": String(length),
          "webhook-id": messageId,
          "webhook-timestamp": String(ts),
          "webhook-signature": standardWebhookSignature(this.key, messageId, ts, body),
        });
        if (res.status >= 200 && res.status < 300) return;
        status = res.status;
        if (!isRetryableStatus(res.status)) throw new DeliveryRejected(res.status, res.text);
        wait = retryAfterMs(res.retryAfter);
      } catch (err) {
        if (err instanceof DeliveryRejected) throw err;
        error = err instanceof Error ? err.message : String(err);
      }
      const waitMs = Math.max(wait ?? 0, backoffMs(attempt, 250, this.opts.maxBackoffMs ?? 30_000));
      this.opts.onRetry?.({ attempt: attempt + 1, waitMs, status, error });
      await this.sleep(waitMs);
    }
  }

  /** One POST over a keep-alive connection (node:http: no web-stream copies of a multi-MB body). */
  private post(
    body: readonly Buffer[],
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string; retryAfter: string | null }> {
    const lib = this.url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(this.url, { method: "POST", headers, agent: this.agent, timeout: this.opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on("end", () => {
          const retry = res.headers["retry-after"];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8").slice(0, 4096),
            retryAfter: typeof retry === "string" ? retry : null,
          });
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("delivery timed out")));
      req.on("error", reject);
      req.cork();
      for (const piece of body) req.write(piece);
      req.end();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
