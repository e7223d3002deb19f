import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setLogSink } from "../../src/lib/log";
import { dispatch } from "../helpers/dispatch";
import { seeded } from "../../src/lib/seeded";
import { aMarker, deliver, linesWith, nowSeconds, type Signed, type WebhookCase } from "./support";

/**
 * Thousands of forged, mutated and random requests against every webhook route, with valid ones
 * interleaved. Forgeries must all be refused with a 4xx (never a 2xx, never a 5xx), the Worker must
 * keep answering, and every valid delivery must be accepted and land. Seeded: a failure replays.
 * Run from three test files (fuzz-*.test.ts) of about 800 requests each, so a failure names its group.
 */
const SEED = 0x5eed_0003;
const PER_SOURCE = 200;
const VALID_EVERY = 20;

const random = seeded(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const int = (max: number) => Math.floor(random() * max);

function randomText(length: number): string {
  const alphabet = 'abcdefABCDEF0123456789+/=,;: "{}[]<>\\\n\t\u00e9\u2028\u4e2dv1,sha256=sha1=';
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[int(alphabet.length)];
  return out;
}

/** What an HTTP header carries: visible ASCII, spaces and tabs, never CR, LF or NUL (Latin-1 makes workerd warn per request). */
function randomHeaderValue(length: number): string {
  const alphabet = "abcdefABCDEF0123456789+/=,;: \"{}[]<>\\\t~!#$%&'()*v1,sha256=sha1=";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[int(alphabet.length)];
  return out.trim() || "x";
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = int(256);
  return out;
}

/**
 * Replaces one character with a digit that differs from it even ignoring case (hex accepts both
 * cases). `within` limits where: a signature is changed in its first half only, since the last
 * base64 character carries bits the decoder drops — changing those gives the same MAC, not a forgery.
 */
function flipOne(value: string, within = value.length): string {
  if (!value) return "0";
  const i = int(Math.max(1, within));
  const c = value[i] ?? "";
  const digits = "0123456789".split("").filter((d) => d !== c.toLowerCase());
  return value.slice(0, i) + pick(digits) + value.slice(i + 1);
}

interface Attempt {
  body: string | Uint8Array;
  signed: Signed;
  edit?: (h: Headers) => void;
}

/** Requests that must be refused: they break the signature, the credential or the headers it needs. */
async function aForgery(c: WebhookCase): Promise<Attempt> {
  const body = c.body(aMarker("forged"));
  const signed = await c.sign(body, { secret: c.secret, nowSeconds: nowSeconds() });
  const credentialHeaders = [...new Set([...(c.signature ? [c.signature.header] : []), ...c.required])];
  const kinds: (() => Promise<Attempt> | Attempt)[] = [
    async () => ({ body, signed: await c.sign(body, { secret: c.wrong, nowSeconds: nowSeconds() }) }),
    () => ({ body, signed: { headers: {} } }),
    () => ({
      body: randomBytes(int(2048)),
      signed: { headers: Object.fromEntries(credentialHeaders.map((h) => [h, randomHeaderValue(1 + int(120))])) },
    }),
  ];
  if (signed.query) kinds.push(() => ({ body, signed: { ...signed, query: `?token=${encodeURIComponent(randomText(int(40)))}` } }));
  if (credentialHeaders.length > 0) {
    kinds.push(
      () => ({ body, signed, edit: (h) => h.delete(pick(credentialHeaders)) }),
      () => ({ body, signed, edit: (h) => h.set(pick(credentialHeaders), randomHeaderValue(int(9000))) }),
      () => {
        const header = pick(credentialHeaders);
        return { body, signed, edit: (h) => h.set(header, flipOne(h.get(header) ?? "", (h.get(header) ?? "").length / 2)) };
      },
    );
  }
  if (c.signature) {
    const header = c.signature.header;
    kinds.push(
      () => ({ body: flipOne(body), signed }),
      () => ({ body: body.slice(0, int(body.length)), signed }),
      () => ({ body: `${body}${randomText(1 + int(20))}`, signed }),
      () => ({ body, signed, edit: (h) => h.set(header, flipOne(h.get(header) ?? "", (h.get(header) ?? "").length / 2)) }),
      () => ({ body, signed, edit: (h) => h.append(header, h.get(header) ?? "") }),
      () => ({ body: randomText(int(4096)), signed }),
    );
  }
  if (c.timestampSigned)
    kinds.push(async () => ({ body, signed: await c.sign(body, { secret: c.secret, nowSeconds: nowSeconds() - 301 - int(100_000) }) }));
  return pick(kinds)();
}

export function describeFuzz(title: string, cases: readonly WebhookCase[], random: number): void {
  describe(`webhook routes under fuzzing: ${title}`, () => {
    // Thousands of rejections log thousands of lines: keep them in memory rather than on the console.
    const logged: string[] = [];
    beforeEach(() => setLogSink((line) => logged.push(line)));
    afterEach(() => setLogSink(undefined));

    // One test per source: the pool's per-test bookkeeping makes every request of a test slower than the last.
    it.each(cases.map((c) => [c.source, c] as const))(
      `given ${PER_SOURCE} forged or mutated requests to /webhooks/%s with valid ones interleaved, then no forgery is accepted, nothing is a 5xx, and every valid delivery lands`,
      async (_name, c) => {
        const refused = new Map<number, number>();
        const wronglyAnswered: string[] = [];
        let validRecords = 0;
        for (let i = 0; i < PER_SOURCE; i += 10) {
          await Promise.all(
            Array.from({ length: 10 }, async (_, k) => {
              if ((i + k) % VALID_EVERY === 0) {
                const body = c.body(aMarker("fuzzok"));
                const res = await deliver(c, body, await c.sign(body, { secret: c.secret, nowSeconds: nowSeconds() }));
                expect(res.status, `a valid ${c.source} delivery`).toBe(200);
                validRecords += c.records;
                return;
              }
              const attempt = await aForgery(c);
              const res = await deliver(c, attempt.body, attempt.signed, attempt.edit);
              await res.arrayBuffer();
              refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
              if (res.status < 400 || res.status >= 500) wronglyAnswered.push(String(res.status));
            }),
          );
        }
        expect(wronglyAnswered).toEqual([]);
        expect([...refused.keys()]).toEqual([401]);
        expect((await dispatch(new Request("https://dock.example/healthz"))).status).toBe(200);

        const deadline = Date.now() + 20_000;
        let lines = await linesWith(c.source, "fuzzok");
        while (lines.length < validRecords && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          lines = await linesWith(c.source, "fuzzok");
        }
        expect(lines).toHaveLength(validRecords);
        expect(new Set(lines.map((l) => JSON.parse(l)._dock.id)).size).toBe(validRecords);
      },
      60_000,
    );

    const names = [
      "svix",
      "github",
      "hubspot",
      "shopify",
      "zendesk",
      "intercom",
      "segment",
      "klaviyo",
      "meta",
      "salesforce",
      "amplitude",
      "stripe",
      "nope",
      "..%2f..",
      "a".repeat(300),
    ];
    it.each(random > 0 ? [1, 2, 3, 4] : [])(
      `given ${random / 4} random requests (any source name, method, header and bytes), part %i, then every answer is a 4xx and the Worker keeps answering`,
      async () => {
        const answers: number[] = [];
        const randomRequest = async () => {
          const method = pick(["POST", "GET", "PUT"]);
          const headers = new Headers();
          for (let h = 0; h < int(5); h++) {
            const name = pick([
              "webhook-signature",
              "x-hub-signature-256",
              "x-signature",
              "klaviyo-signature",
              "x-webhook-secret",
              "content-type",
            ]);
            headers.set(name, randomHeaderValue(int(200)));
          }
          const url = `https://dock.example/webhooks/${pick(names)}?${randomText(int(30)).replace(/[#\s]/g, "")}`;
          const res = await dispatch(new Request(url, { method, headers, body: method === "GET" ? undefined : randomBytes(int(3000)) }));
          await res.arrayBuffer();
          answers.push(res.status);
        };
        for (let i = 0; i < random / 4 / 10; i++) await Promise.all(Array.from({ length: 10 }, randomRequest));
        expect(answers).toHaveLength(random / 4);
        expect(answers.filter((s) => s < 400 || s >= 500)).toEqual([]);
        expect((await dispatch(new Request("https://dock.example/healthz"))).status).toBe(200);
      },
      60_000,
    );
  });
}
