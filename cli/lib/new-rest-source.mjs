import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The `dock new-source <name> --rest` templates: a declarative REST source (defineRestSource) with
 * one stream read incrementally by `updated_at`, cursor-token pagination, its base URL from
 * `<NAME>_API_BASE`, and the auth chosen (bearer by default), plus fixture builders and workerd
 * tests that drive the real poll engine against a strict fake of the API.
 */

export const AUTH_KINDS = ["bearer", "api_key", "basic", "oauth"];

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (name) => camel(name).replace(/^[a-z]/, (c) => c.toUpperCase());

/** What each auth choice declares, which env vars it reads, and what a test expects on the wire. */
function authOf(kind, N) {
  switch (kind) {
    case "bearer":
      return {
        vars: { [`${N}_API_TOKEN`]: "the API token" },
        decl: `{ type: "bearer", token: { env: "${N}_API_TOKEN" } }`,
        testVars: `${N}_API_TOKEN: "test-token"`,
        expectHeader: `expect(request.headers.get("authorization")).toBe("Bearer test-token");`,
        secretInTest: "test-token",
      };
    case "api_key":
      return {
        vars: { [`${N}_API_KEY`]: "the API key" },
        decl: `{ type: "api_key", in: "header", name: "X-API-Key", key: { env: "${N}_API_KEY" } }`,
        testVars: `${N}_API_KEY: "test-key"`,
        expectHeader: `expect(request.headers.get("x-api-key")).toBe("test-key");`,
        secretInTest: "test-key",
      };
    case "basic":
      return {
        vars: { [`${N}_API_USER`]: "the API user", [`${N}_API_PASSWORD`]: "its password" },
        decl: `{ type: "basic", username: { env: "${N}_API_USER" }, password: { env: "${N}_API_PASSWORD" } }`,
        testVars: `${N}_API_USER: "test-user", ${N}_API_PASSWORD: "test-password"`,
        expectHeader: `expect(request.headers.get("authorization")).toBe(\`Basic \${btoa("test-user:test-password")}\`);`,
        secretInTest: "test-password",
      };
    case "oauth":
      return {
        vars: {
          [`${N}_CLIENT_ID`]: "the OAuth client id",
          [`${N}_CLIENT_SECRET`]: "its secret",
          [`${N}_TOKEN_URL`]: "(optional) the token endpoint, if not the default in index.ts",
        },
        decl: `{
    type: "oauth2_client_credentials",
    // The token endpoint: TOKEN_URL overrides the default (a staging login server, a local fake).
    tokenUrl: { env: "${N}_TOKEN_URL", default: "https://auth.example.com/oauth/token" },
    clientId: { env: "${N}_CLIENT_ID" },
    clientSecret: { env: "${N}_CLIENT_SECRET" },
  }`,
        testVars: `${N}_CLIENT_ID: "test-client", ${N}_CLIENT_SECRET: "test-client-secret", ${N}_TOKEN_URL: TOKEN_URL`,
        expectHeader: `expect(request.headers.get("authorization")).toBe("Bearer test-access-token");`,
        secretInTest: "test-client-secret",
      };
    default:
      throw new Error(`--auth must be one of ${AUTH_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  }
}

/** The env vars the scaffolded source reads, with what each holds (for the CLI's next steps). */
export function restVars(name, auth = "bearer") {
  const N = name.toUpperCase();
  return { [`${N}_API_BASE`]: "the API's base URL, e.g. https://api.example.com", ...authOf(auth, N).vars };
}

export function restTemplates(name, { auth = "bearer", stream = "items" } = {}) {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(stream)) throw new Error(`--stream ${JSON.stringify(stream)} must be lowercase letters, digits and _`);
  const id = camel(name);
  const P = pascal(name);
  const N = name.toUpperCase();
  const a = authOf(auth, N);
  const oauth = auth === "oauth";
  return {
    "index.ts": `import { defineRestSource } from "../rest/define-rest-source";

/**
 * ${P}: a declarative REST source scaffolded by \`dock new-source ${name} --rest\` (docs/polling.md).
 * Only data: edit the path, where the records are, the key, the cursor and the pagination to match
 * the API. Settings (.dev.vars locally, Worker secrets deployed): ${Object.keys(a.vars).join(", ")}, and
 * ${N}_API_BASE, the API's base URL. Until ${N}_API_BASE is set the scheduler leaves the source alone
 * and \`dock test-read\` / \`dock run\` say what to set.
 */
export const ${id} = defineRestSource({
  name: "${name}",
  title: "${P}",
  baseUrl: { env: "${N}_API_BASE" },
  auth: ${a.decl},
  // The API's published rate limit; the engine uses RATE_FRACTION (default half) of it.
  rateLimit: { requests: 10, perSeconds: 1 },
  streams: [
    {
      name: "${stream}",
      path: "/v1/${stream}",
      // Fixed query parameters, if the API needs any: params: { status: "all" },
      // Where the array of records is in the body ("" when the body is the array).
      records: "data",
      // What identifies a record (a dotted path, or a list of them): becomes _dock.key.
      primaryKey: "id",
      // Incremental reads: ask for records updated since the stored cursor minus the lookback.
      // Add \`keyset: true\` when the API filters by this field and its page tokens are offsets.
      cursor: { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 300, ascending: true },
      // {"data":[…],"has_more":true,"next_cursor":"…"} → ?cursor=…; other styles: next_link, link_header,
      // after_id, offset, page, none (docs/polling.md, "Pagination styles").
      pagination: { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" },
      pageSize: 100,
      intervalMinutes: 15,
    },
  ],
});
`,
    "fixtures.ts": `import { arrayText, JsonBuilder } from "../fixture-builder";

/** A ${stream} record as the API documents it: \`a${P}Record("r_1").with({ updated_at: "…" }).text()\`. */
export function a${P}Record(id: string) {
  return new JsonBuilder<Record<string, unknown>>({ id, name: \`Record \${id}\`, updated_at: "2026-11-25T07:00:00Z" });
}

/** One page of the list: \`{"data":[…],"has_more":…,"next_cursor":…}\`; no next cursor = the last page. */
export function ${id}Page(records: { text(): string }[], nextCursor: string | null = null): string {
  return \`{"data":\${arrayText(records)},"has_more":\${nextCursor !== null},"next_cursor":\${JSON.stringify(nextCursor)}}\`;
}
${
  oauth
    ? `
/** The token endpoint's answer to a client-credentials grant. */
export function a${P}TokenAnswer(accessToken = "test-access-token", expiresIn = 3600): string {
  return JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: expiresIn });
}
`
    : ""
}`,
    [`${name}.test.ts`]: `import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readCursor, resetCursor } from "../../pollers/cursor";
import { openGate } from "../../pollers/rate-gate";
import { runPollStep } from "../../pollers/run-poll";
import { clearBucket, readEnvelopes } from "../../../test/helpers/raw-zone";
import { deliverIngest, fakeClock, pollEnv, quietLogs, VendorMock } from "../../../test/pollers/helpers";
import { findSource } from "../registry";
${oauth ? `import { clearTokenCache } from "../rest/auth";\n` : ""}import { a${P}Record, ${id}Page${oauth ? `, a${P}TokenAnswer` : ""} } from "./fixtures";
import { ${id} } from "./index";

/**
 * The ${name} source through the real poll engine and raw writer; the API is a strict fake reached
 * through ${N}_API_BASE: a request it does not expect is answered 418 and fails the run.
 */
const BASE = "https://${name.replace(/_/g, "-")}.api.test";
${oauth ? `const TOKEN_URL = "https://${name.replace(/_/g, "-")}.auth.test/oauth/token";\n` : ""}const LIST = \`\${BASE}/v1/${stream}\`;
const configured = { ${N}_API_BASE: BASE, ${a.testVars} };

let runs = 0;
/** One poll run to its end, its records delivered to the raw zone by the real raw writer. */
async function poll(vars: Record<string, string> = configured) {
  const e = pollEnv(vars);
  const out = await runPollStep(e, ${id}, { kind: "poll", source: "${name}", stream: "${stream}", run_id: \`poll-test-\${++runs}\` }, {
    clock: fakeClock(),
    gate: openGate,
  });
  await deliverIngest(e.INGEST);
  return out;
}

/** What landed in the raw zone, in key order. */
async function landed() {
  const lines = await readEnvelopes("raw/source=${name}/stream=${stream}/");
  return lines.sort((x, y) => (String(x._dock.key) < String(y._dock.key) ? -1 : 1));
}

beforeEach(async () => {
  quietLogs();
${oauth ? "  clearTokenCache();\n" : ""}  await clearBucket();
  await resetCursor(env.DB, "${name}", "${stream}", null);
});
afterEach(() => vi.restoreAllMocks());

describe("${name} source", () => {
  it("given the registry, then it knows ${name} and its ${stream} stream", () => {
    expect(findSource("${name}")).toBe(${id});
    expect(${id}.streams?.map((s) => s.name)).toEqual(["${stream}"]);
  });

  it("given two pages, when the stream is polled, then every record lands under its key and the cursor moves to the newest updated_at", async () => {
    const vendor = new VendorMock()${oauth ? `\n      .on(TOKEN_URL, { body: a${P}TokenAnswer() })` : ""}
      .on(\`\${LIST}?limit=100\`, {
        body: ${id}Page(
          [a${P}Record("r_1").with({ updated_at: "2026-11-25T07:00:00Z" }), a${P}Record("r_2").with({ updated_at: "2026-11-25T07:05:00Z" })],
          "page-2",
        ),
      })
      .on(\`\${LIST}?limit=100&cursor=page-2\`, { body: ${id}Page([a${P}Record("r_3").with({ updated_at: "2026-11-25T07:10:00Z" })]) });
    vendor.install();

    const out = await poll();

    expect(vendor.unexpected).toEqual([]);
    expect(out.status, out.error).toBe("succeeded");
    const lists = vendor.requests.filter((r) => r.url.startsWith(LIST));
    expect(lists).toHaveLength(2);
    for (const request of lists) ${a.expectHeader}
    const lines = await landed();
    expect(lines.map((l) => l._dock.key)).toEqual(["r_1", "r_2", "r_3"]);
    expect(lines[0]?._dock).toMatchObject({ source: "${name}", stream: "${stream}", pattern: "poll", op: "upsert" });
    expect(lines[0]?.data).toEqual(JSON.parse(a${P}Record("r_1").with({ updated_at: "2026-11-25T07:00:00Z" }).text()));
    expect(await readCursor(env.DB, "${name}", "${stream}")).toBe("2026-11-25T07:10:00Z");
  });

  it("given a stored cursor, when polled again, then it asks for records since the cursor minus the lookback", async () => {
    await resetCursor(env.DB, "${name}", "${stream}", "2026-11-25T07:10:00Z");
    const vendor = new VendorMock()${oauth ? `\n      .on(TOKEN_URL, { body: a${P}TokenAnswer() })` : ""}
      .on(\`\${LIST}?limit=100&updated_since=2026-11-25T07:05:00.000Z\`, { body: ${id}Page([]) });
    vendor.install();

    const out = await poll();

    expect(vendor.unexpected).toEqual([]);
    expect(out.status, out.error).toBe("succeeded");
    expect(vendor.requests.filter((r) => r.url.startsWith(LIST))).toHaveLength(1);
  });

  it("given a record changed within one second, when polled after each change, then both states land under two _dock.ids; unchanged, it lands once", async () => {
    const a = a${P}Record("r_9").with({ name: "first", updated_at: "2026-11-25T08:00:00Z" });
    const b = a${P}Record("r_9").with({ name: "second", updated_at: "2026-11-25T08:00:00Z" });
    const vendor = new VendorMock()${oauth ? `\n      .on(TOKEN_URL, { body: a${P}TokenAnswer() })` : ""}
      .on(\`\${LIST}?limit=100\`, { body: ${id}Page([a]) })
      .on(\`\${LIST}?limit=100&updated_since=2026-11-25T07:55:00.000Z\`, { body: ${id}Page([b]) }, { body: ${id}Page([b]) });
    vendor.install();

    for (let i = 0; i < 3; i++) expect((await poll()).status).toBe("succeeded");

    expect(vendor.unexpected).toEqual([]);
    const states = (await landed()).filter((l) => l._dock.key === "r_9");
    expect(states.map((l) => (l.data as { name: string }).name).sort()).toEqual(["first", "second"]);
    expect(new Set(states.map((l) => l._dock.id)).size).toBe(2);
  });

  it("given ${N}_API_BASE unset, when polled, then the run fails naming it and the API is never called", async () => {
    const vendor = new VendorMock();
    vendor.install();
    const unset = Object.fromEntries(Object.entries(configured).filter(([name]) => name !== "${N}_API_BASE"));

    const out = await poll(unset);

    expect(out.status).toBe("failed");
    expect(out.error).toContain("${N}_API_BASE");
    expect(vendor.requests).toEqual([]);
  });

  it("given the API refuses the credentials, when polled, then the run fails with the status and no secret in the error", async () => {
    const vendor = new VendorMock()${oauth ? `\n      .on(TOKEN_URL, { body: a${P}TokenAnswer() })` : ""}
      .on(\`\${LIST}?limit=100\`, { status: 403, body: '{"error":"forbidden"}' });
    vendor.install();

    const out = await poll();

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/page 1 \\(GET .*\\/v1\\/${stream}.*answered 403/);
    expect(out.error).not.toContain("${a.secretInTest}");
    expect(await landed()).toEqual([]);
  });
});
`,
  };
}

/** The scaffold in the checkout's own style (its biome), so the new folder passes `npm run lint` as written. */
export function formatScaffold(root, dir) {
  const biome = join(root, "node_modules", ".bin", "biome");
  if (existsSync(biome)) spawnSync(biome, ["format", "--write", dir], { cwd: root, stdio: "ignore" });
}
