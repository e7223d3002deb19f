import { dispatch } from "../helpers/dispatch";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setLogSink } from "../../src/lib/log";
import { readLines } from "../helpers/raw-zone";
import { allCases } from "./cases";
import { aMarker, deliver, nowSeconds, settle, waitForMarker } from "./support";

/**
 * Secrets never appear in logs, error bodies or the raw zone: every source is driven through
 * accepted, refused and unparseable deliveries while the logs are captured, then everything the
 * Worker said or stored is searched for every secret, signature and Authorization value it saw.
 */
const AUTHORIZATION = "Bearer sk_live_log-scan-authorization-value-0001";

describe("secrets stay out of logs, error bodies and the raw zone", () => {
  const logged: string[] = [];
  beforeEach(() => setLogSink((line) => logged.push(line)));
  afterEach(() => setLogSink(undefined));

  it("given accepted, forged and unparseable deliveries to every source, when logs, answers and raw lines are scanned, then no secret, signature or Authorization value is found", async () => {
    const vars = env as unknown as Record<string, unknown>;
    const secrets = Object.entries(vars)
      .filter(([name, value]) => /(_WEBHOOK_SECRET(_PREVIOUS)?|_VERIFY_TOKEN)$/.test(name) && typeof value === "string")
      .map(([, value]) => value as string);
    expect(secrets.length).toBeGreaterThanOrEqual(2 * allCases.length);
    const seen = new Set<string>([...secrets, AUTHORIZATION, AUTHORIZATION.slice("Bearer ".length)]);
    const answers: string[] = [];
    const markers: [string, string, number][] = [];

    for (const c of allCases) {
      const marker = aMarker("scan");
      const body = c.body(marker);
      const signed = await c.sign(body, { secret: c.secret, nowSeconds: nowSeconds() });
      const signature = c.signature ? signed.headers[c.signature.header] : undefined;
      if (signature) seen.add(signature.slice(c.signature?.prefix.length ?? 0));
      const withAuthorization = (h: Headers) => h.set("authorization", AUTHORIZATION);
      const ok = await deliver(c, body, signed, withAuthorization);
      expect(ok.status).toBe(200);
      answers.push(await ok.text());
      markers.push([c.source, marker, c.records]);

      const forged = await deliver(c, body, await c.sign(body, { secret: c.wrong, nowSeconds: nowSeconds() }), withAuthorization);
      expect(forged.status).toBe(401);
      answers.push(await forged.text());

      // A body the source cannot read but that is authentic: kept raw, with a reason in the logs.
      const odd = `not the vendor's format ${marker}`;
      const oddSigned = await c.sign(odd, { secret: c.secret, nowSeconds: nowSeconds() });
      const kept = await deliver(c, odd, oddSigned, withAuthorization);
      answers.push(await kept.text());
      if (c.source !== "salesforce") expect(kept.status).toBe(200);
    }
    const handshake = await dispatch(
      new Request(`https://dock.example/webhooks/meta?hub.mode=subscribe&hub.challenge=42&hub.verify_token=${vars.META_VERIFY_TOKEN}`),
    );
    answers.push(await handshake.text());

    for (const [source, marker, count] of markers) await waitForMarker(source, marker, count);
    await settle();
    const raw = await readLines("raw/");
    expect(raw.length).toBeGreaterThanOrEqual(markers.length);
    expect(logged.some((l) => l.includes("webhook.rejected"))).toBe(true);
    expect(logged.some((l) => l.includes("webhook.kept_raw"))).toBe(true);

    const found: string[] = [];
    for (const secret of seen) {
      if (secret.length < 8) continue;
      for (const [where, texts] of [
        ["logs", logged],
        ["answers", answers],
        ["raw zone", raw],
      ] as const) {
        if (texts.some((t) => t.includes(secret))) found.push(`${where}: …${secret.slice(-6)}`);
      }
    }
    expect(found).toEqual([]);
    expect(raw.some((l) => l.includes("Live.Session.Token"))).toBe(false);
  }, 60_000);
});
