import { dispatch } from "../helpers/dispatch";

import { describe, expect, it, vi } from "vitest";
import { fromBase64, fromHex, toBase64, toHex } from "../../src/lib/bytes";
import { hmac, type HashName } from "../../src/lib/crypto";
import { readLines } from "../helpers/raw-zone";

/**
 * The contract every webhook source honours, written once and run against each source with a
 * description of how that vendor signs (`WebhookCase`). Vendor-specific behaviour lives in each
 * source's own test file next to the call to `describeWebhookContract`.
 */
export interface SignContext {
  secret: string;
  nowSeconds: number;
}

export interface Signed {
  headers: Record<string, string>;
  /** Appended to the URL (Salesforce's token). */
  query?: string;
}

export interface WebhookCase {
  source: string;
  secret: string;
  previous: string;
  /** A secret of the right shape that is neither of the two. */
  wrong: string;
  contentType?: string;
  /** A valid body whose records each contain `marker`, and how many records it holds. */
  body(marker: string): string;
  records: number;
  sign(body: string, ctx: SignContext): Promise<Signed> | Signed;
  /** Where the MAC is, for the wrong-encoding and truncation cases; absent for shared-secret senders. */
  signature?: { header: string; prefix: string; encoding: "hex" | "base64" };
  timestampSigned: boolean;
  /** Headers whose absence must be refused. */
  required: string[];
  /** Headers that must appear once: a repeated one is refused. */
  single: string[];
}

// Landing waits on the local queue's 2 s batch timeout; with every file running at once that can pass 5 s.
vi.setConfig({ testTimeout: 30_000 });

let counter = 0;
export function aMarker(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${(++counter).toString(36)}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function hmacText(hash: HashName, secret: string, message: string, encoding: "hex" | "base64"): Promise<string> {
  const mac = await hmac(hash, secret, message);
  return encoding === "hex" ? toHex(mac) : toBase64(mac);
}

export function deliver(c: WebhookCase, body: string | Uint8Array, signed: Signed, edit?: (h: Headers) => void): Promise<Response> {
  const headers = new Headers({ "content-type": c.contentType ?? "application/json", ...signed.headers });
  edit?.(headers);
  return dispatch(new Request(`https://dock.example/webhooks/${c.source}${signed.query ?? ""}`, { method: "POST", body, headers }));
}

export async function signAndDeliver(c: WebhookCase, body: string, secret = c.secret): Promise<Response> {
  return deliver(c, body, await c.sign(body, { secret, nowSeconds: nowSeconds() }));
}

/** Raw-zone lines of a source that contain a marker. */
export async function linesWith(source: string, marker: string): Promise<string[]> {
  return (await readLines(`raw/source=${source}/`)).filter((l) => l.includes(marker));
}

export async function waitForMarker(source: string, marker: string, count: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await linesWith(source, marker);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} ${source} records with ${marker}; have ${lines.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Longer than the INGEST queue's batch timeout: whatever was going to land has landed. */
export const settle = () => new Promise((r) => setTimeout(r, 2500));

function reencode(value: string, prefix: string, encoding: "hex" | "base64"): string {
  const sig = value.slice(prefix.length);
  const bytes = encoding === "hex" ? fromHex(sig) : fromBase64(sig);
  if (!bytes) throw new Error("the case's signature is not in its declared encoding");
  return prefix + (encoding === "hex" ? toBase64(bytes) : toHex(bytes));
}

type Rejection = [
  name: string,
  make: (c: WebhookCase, body: string) => Promise<{ body: string; signed: Signed; edit?: (h: Headers) => void }>,
];

function rejections(c: WebhookCase): Rejection[] {
  const sign = (body: string, over: Partial<SignContext> = {}) =>
    Promise.resolve(c.sign(body, { secret: c.secret, nowSeconds: nowSeconds(), ...over }));
  const list: Rejection[] = [["the wrong secret", async (_c, body) => ({ body, signed: await sign(body, { secret: c.wrong }) })]];
  if (c.signature) {
    const { header, prefix, encoding } = c.signature;
    list.push(
      ["a tampered body", async (_c, body) => ({ body: `${body.slice(0, 1)} ${body.slice(1)}`, signed: await sign(body) })],
      [
        "the signature in the wrong encoding",
        async (_c, body) => ({
          body,
          signed: await sign(body),
          edit: (h) => h.set(header, reencode(h.get(header) ?? "", prefix, encoding)),
        }),
      ],
      [
        "a truncated signature",
        async (_c, body) => ({ body, signed: await sign(body), edit: (h) => h.set(header, (h.get(header) ?? "").slice(0, -4)) }),
      ],
      ["an empty signature", async (_c, body) => ({ body, signed: await sign(body), edit: (h) => h.set(header, prefix) })],
    );
  }
  if (c.timestampSigned) {
    list.push(
      ["a stale timestamp", async (_c, body) => ({ body, signed: await sign(body, { nowSeconds: nowSeconds() - 600 }) })],
      ["a timestamp from the future", async (_c, body) => ({ body, signed: await sign(body, { nowSeconds: nowSeconds() + 600 }) })],
    );
  }
  for (const name of c.required)
    list.push([`no ${name} header`, async (_c, body) => ({ body, signed: await sign(body), edit: (h) => h.delete(name) })]);
  for (const name of c.single) {
    list.push([
      `a repeated ${name} header`,
      async (_c, body) => ({ body, signed: await sign(body), edit: (h) => h.append(name, h.get(name) ?? "") }),
    ]);
  }
  return list;
}

export function describeWebhookContract(c: WebhookCase): void {
  describe(`POST /webhooks/${c.source} — the contract every source honours`, () => {
    it("given a delivery signed with the current secret, when posted, then 200 and each of its records lands", async () => {
      const marker = aMarker("ok");
      const res = await signAndDeliver(c, c.body(marker));
      expect(res.status).toBe(200);
      const lines = await waitForMarker(c.source, marker, c.records);
      expect(lines).toHaveLength(c.records);
      for (const line of lines) expect(JSON.parse(line)._dock).toMatchObject({ source: c.source, pattern: "webhook" });
    });

    it("given a delivery signed with the previous secret during a rotation, when posted, then it is accepted", async () => {
      const marker = aMarker("prev");
      expect((await signAndDeliver(c, c.body(marker), c.previous)).status).toBe(200);
      await waitForMarker(c.source, marker, c.records);
    });

    it("given the same delivery twice, when both are posted, then its records land once", async () => {
      const marker = aMarker("twice");
      const body = c.body(marker);
      expect((await signAndDeliver(c, body)).status).toBe(200);
      expect((await signAndDeliver(c, body)).status).toBe(200);
      await waitForMarker(c.source, marker, c.records);
      await settle();
      expect(await linesWith(c.source, marker)).toHaveLength(c.records);
    });

    it.each(rejections(c))("given %s, when posted, then 401 with no detail", async (_name, make) => {
      const { body, signed, edit } = await make(c, c.body(aMarker("bad")));
      const res = await deliver(c, body, signed, edit);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: "invalid signature" });
      expect(text).not.toContain(c.secret);
    });

    it("given refused deliveries, when the queue has drained, then none of them landed", async () => {
      const marker = aMarker("refused");
      for (const [, make] of rejections(c)) {
        const { body, signed, edit } = await make(c, c.body(marker));
        expect((await deliver(c, body, signed, edit)).status).toBe(401);
      }
      await settle();
      expect(await linesWith(c.source, marker)).toEqual([]);
    });
  });
}
