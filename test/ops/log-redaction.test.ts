import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cursorPage, demoItems } from "../../demo/fixtures";
import { log, redact, rememberSecrets, setLogSink } from "../../src/lib/log";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { clearTokenCache, restAuth } from "../../src/sources/rest/auth";
import { aSource, fakeClock, pollEnv, VendorMock } from "../pollers/helpers";

const TOKEN_URL = "https://auth.vendor.test/oauth2/token";
const INVALID_GRANT = '{"error":"invalid_grant","error_description":"Token has been expired or revoked."}';

describe("redaction: secret values go, the words around them stay", () => {
  it("given errors that hold no secret, then they come through unchanged", () => {
    const readable = [
      `token endpoint ${TOKEN_URL} answered 400: ${INVALID_GRANT}`,
      "refresh token rejected: token expired, ask for a new refresh token",
      "GET https://api.vendor.test/v1/items?limit=100&page_token=CAEQAhoGCICQ answered 500: oops",
      "Basic authentication failed for user alice",
      "Bearer token missing; set HUBSPOT_ACCESS_TOKEN",
      "the env var the source needs for auth is not set (GOOGLE_ADS_REFRESH_TOKEN)",
      '{"error":{"code":190,"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException"}}',
      '{"errors":[{"code":"invalid","title":"Invalid input.","detail":"key must be a string"}]}',
      "secret rotation: the previous secret is still accepted",
      "POST https://login.salesforce.com/services/oauth2/token answered 400: authentication failure",
    ];
    for (const text of readable) expect(redact(text)).toBe(text);
  });

  it("given credentials in URLs, headers, JSON, prose and known shapes, then each value is replaced and its name is kept", () => {
    const cases: [text: string, secret: string, kept: string][] = [
      ["GET https://api.vendor.test/v1/items?api_key=abc123secret&limit=3 answered 404", "abc123secret", "api_key=[redacted]&limit=3"],
      [
        "GET https://sheets.googleapis.com/v4/x?key=AIzaSyA-1234567890abcdefghijklmnopqrstu answered 403",
        "AIzaSyA-1234567890",
        "key=[redacted]",
      ],
      [
        "grant_type=refresh_token&refresh_token=rt-0123456789&client_id=c1",
        "rt-0123456789",
        "grant_type=refresh_token&refresh_token=[redacted]&client_id=c1",
      ],
      [
        "sent Authorization: Bearer eyJhbGci.payload-9.sig answered 401",
        "eyJhbGci.payload-9",
        "Authorization: Bearer [redacted] answered 401",
      ],
      ["authorization: Basic dXNlcjpwYXNzd29yZA== refused", "dXNlcjpwYXNzd29yZA==", "authorization: Basic [redacted] refused"],
      ["x-api-key: k_live_0123456789abcdef was refused", "k_live_0123456789abcdef", "x-api-key: [redacted] was refused"],
      [
        "stripe-signature: t=1,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
        "5257a869e7ec",
        "stripe-signature: [redacted]",
      ],
      [
        '{"access_token":"at-0123456789","token_type":"Bearer","expires_in":3599}',
        "at-0123456789",
        '{"access_token":"[redacted]","token_type":"Bearer"',
      ],
      ['{"client_secret": "cs-abcdef0123"}', "cs-abcdef0123", '{"client_secret": "[redacted]"}'],
      ["connect https://dock:hunter2hunter2@db.internal:5432/x failed", "hunter2hunter2", "https://dock:[redacted]@db.internal"],
      ["key whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw was rejected", "whsec_MfKQ9r8G", "key [redacted] was rejected"],
      ["GitHub said ghp_16C7e42F292c6912E7710c838347Ae178B4a is revoked", "ghp_16C7e42F", "GitHub said [redacted] is revoked"],
      ["Google returned ya29.a0AfH6SMBx-9abc for the refresh", "ya29.a0AfH6SMBx", "Google returned [redacted] for the refresh"],
      [
        "GET https://s3.test/x?X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-Expires=300",
        "FwoGZXIvYXdzEJr",
        "X-Amz-Security-Token=[redacted]&X-Amz-Expires=300",
      ],
      ['{"service_account_private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEv\\n"}', "MIIEv", '{"service_account_private_key":"[redacted]"}'],
    ];
    for (const [text, secret, kept] of cases) {
      const out = redact(text);
      expect(out, text).not.toContain(secret);
      expect(out, text).toContain(kept);
    }
  });

  it("given secrets the caller names or the Worker's env holds, then they are removed wherever they appear, even as plain words", () => {
    rememberSecrets({ FOO_API_KEY: "plainwordsecretvalue", RATE_FRACTION: "0.5", FOO_TOKEN_URL: "https://auth.foo.test/token" });
    const out = redact("vendor echoed plainwordsecretvalue and callerknownvalue back at https://auth.foo.test/token", ["callerknownvalue"]);
    expect(out).toBe("vendor echoed [redacted] and [redacted] back at https://auth.foo.test/token");
    expect(redact("RATE_FRACTION is 0.5")).toBe("RATE_FRACTION is 0.5");
  });

  it("given a log line whose caller forgot to redact its error, then the error is redacted on the way out and stays readable", () => {
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      log("error", { event: "job.failed", error: "POST https://x.test/token?client_secret=s3cr3t-value answered 400: invalid_grant" });
    } finally {
      setLogSink(undefined);
    }
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      event: "job.failed",
      error: "POST https://x.test/token?client_secret=[redacted] answered 400: invalid_grant",
    });
  });
});

describe("redaction in a failed run", () => {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    setLogSink((l) => lines.push(l));
    clearTokenCache();
  });
  afterEach(() => {
    setLogSink(undefined);
    vi.restoreAllMocks();
  });

  it("given a refresh token the vendor refuses (400 invalid_grant), when polled, then the run's error says so readably and holds no secret", async () => {
    const vendor = new VendorMock()
      .on(TOKEN_URL, { status: 400, body: INVALID_GRANT })
      .on("https://api.vendor.test/v1/items?limit=3", { body: cursorPage(demoItems(1), null) });
    vendor.install();
    const source = aSource(
      { pagination: { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } },
      {
        auth: restAuth({
          type: "oauth2_refresh_token",
          tokenUrl: TOKEN_URL,
          clientId: { env: "V_ID" },
          clientSecret: { env: "V_SECRET" },
          refreshToken: { env: "V_REFRESH" },
        }),
      },
    );
    const secrets = { V_ID: "client-9", V_SECRET: "cs-0123456789abcdef", V_REFRESH: "1//0gRefreshTokenValue-abcdefghijkl" };

    const out = await runPollStep(
      pollEnv(secrets),
      source,
      { kind: "poll", source: source.name, stream: "items" },
      {
        clock: fakeClock(),
        gate: openGate,
      },
    );

    const expected = `token endpoint ${TOKEN_URL} answered 400: ${INVALID_GRANT}`;
    expect(out.status).toBe("failed");
    expect(out.error).toContain(expected);
    const run = await workerEnv.DB.prepare("SELECT status, error FROM runs WHERE id = ?1")
      .bind(out.runId)
      .first<{ status: string; error: string }>();
    expect(run?.status).toBe("failed");
    expect(run?.error).toContain(expected);
    const said = [out.error, run?.error, ...lines].join("\n");
    for (const secret of Object.values(secrets).slice(1)) expect(said).not.toContain(secret);
    expect(lines.some((l) => l.includes("invalid_grant"))).toBe(true);
  });
});
