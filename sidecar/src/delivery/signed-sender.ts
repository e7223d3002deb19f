import { Webhook } from "standardwebhooks";
import { backoffMs, isRetryableStatus, retryAfterMs } from "./backoff";

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
  private readonly webhook: Webhook;
  private aborted = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly opts: SenderOptions) {
    this.webhook = new Webhook(opts.secret);
  }

  abort(): void {
    this.aborted = true;
    for (const wake of this.wakers) wake();
  }

  async send(messageId: string, body: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new DeliveryAborted("delivery aborted by shutdown");
      let status: number | undefined;
      let error: string | undefined;
      let wait: number | null = null;
      try {
        const now = new Date();
        const res = await fetch(this.opts.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": messageId,
            "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
            "webhook-signature": this.webhook.sign(messageId, now, body),
          },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        });
        const text = await res.text().catch(() => "");
        if (res.ok) return;
        status = res.status;
        if (!isRetryableStatus(res.status)) throw new DeliveryRejected(res.status, text);
        wait = retryAfterMs(res.headers.get("retry-after"));
      } catch (err) {
        if (err instanceof DeliveryRejected) throw err;
        error = err instanceof Error ? err.message : String(err);
      }
      const waitMs = Math.max(wait ?? 0, backoffMs(attempt, 250, this.opts.maxBackoffMs ?? 30_000));
      this.opts.onRetry?.({ attempt: attempt + 1, waitMs, status, error });
      await this.sleep(waitMs);
    }
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
