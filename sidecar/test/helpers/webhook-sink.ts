import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";
import { lineIdentityError } from "../../../src/envelope/line-identity";

export const TEST_SECRET = "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";

export interface SinkRecord {
  id: string;
  line: string;
  stream: string;
  dock: Record<string, unknown>;
  data: Record<string, string | null> | undefined;
}

/**
 * Stands in for the Worker's POST /ingest/cdc: verifies the Standard Webhooks signature with the
 * `standardwebhooks` package, checks the delivery's shape and every line as the Worker does
 * (src/envelope/line-identity.ts), records every accepted record, and
 * can be told to fail requests (503) or to stall.
 */
export class WebhookSink {
  readonly records: SinkRecord[] = [];
  deliveries = 0;
  rejectedSignatures = 0;
  failed = 0;
  /** Return a status to fail this request with it; undefined accepts. */
  failWith: ((n: number, body: string) => number | undefined) | null = null;
  delayMs = 0;
  /** Only ids are kept (for big volumes): `records` and `seen` stay empty. */
  idsOnly = false;
  readonly ids = new Set<string>();
  recordCount = 0;
  /** While set, requests wait for it before being answered. */
  gate: Promise<void> | null = null;
  /** Every signed record the sink saw, refused or not. */
  readonly seen: SinkRecord[] = [];
  private server!: Server;
  private readonly webhook = new Webhook(TEST_SECRET);
  private requestCount = 0;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void this.handle(Buffer.concat(chunks).toString("utf8"), req.headers as Record<string, string>, res));
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  private async handle(body: string, headers: Record<string, string>, res: import("node:http").ServerResponse): Promise<void> {
    const n = this.requestCount++;
    try {
      this.webhook.verify(body, headers);
    } catch {
      this.rejectedSignatures++;
      res.writeHead(401).end('{"error":"invalid signature"}');
      return;
    }
    try {
      if (!this.idsOnly) this.parse(body, this.seen);
    } catch {
      // judged below
    }
    if (this.gate) await this.gate;
    const status = this.failWith?.(n, body);
    if (status !== undefined) {
      this.failed++;
      res.writeHead(status).end('{"error":"told to fail"}');
      return;
    }
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    try {
      this.accept(body);
    } catch (err) {
      res.writeHead(422).end(JSON.stringify({ error: (err as Error).message }));
      return;
    }
    this.deliveries++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
  }

  private accept(body: string): void {
    if (this.idsOnly) {
      const parsed = JSON.parse(body) as { bundles: { records: { id: string }[] }[] };
      for (const b of parsed.bundles) for (const r of b.records) this.ids.add(r.id);
      for (const b of parsed.bundles) this.recordCount += b.records.length;
      return;
    }
    this.parse(body, this.records);
  }

  private parse(body: string, into: SinkRecord[]): void {
    const parsed = JSON.parse(body) as {
      bundles: { kind: string; source: string; stream: string; pattern: string; records: { id: string; line: string }[] }[];
    };
    for (const b of parsed.bundles) {
      if (b.kind !== "bundle" || !Array.isArray(b.records)) throw new Error("bad bundle");
      for (const r of b.records) {
        // The Worker's own check of a prepared line (its id is dockId of its source, stream, key and version).
        const refused = lineIdentityError(r.line, r.id, b);
        if (refused) throw new Error(`the Worker would refuse this line: ${refused}`);
        const env = JSON.parse(r.line) as { _dock: Record<string, unknown>; data?: Record<string, string | null> };
        into.push({ id: r.id, line: r.line, stream: b.stream, dock: env._dock, data: env.data });
      }
    }
  }

  /** Records of a stream, deduplicated by `_dock.id`. */
  unique(stream?: string): SinkRecord[] {
    const seen = new Map<string, SinkRecord>();
    for (const r of this.records) if (!stream || r.stream === stream) seen.set(r.id, r);
    return [...seen.values()];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
