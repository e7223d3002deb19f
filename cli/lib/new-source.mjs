import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { restTemplates, restVars } from "./new-rest-source.mjs";

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (name) => camel(name).replace(/^[a-z]/, (c) => c.toUpperCase());

/**
 * `dock new-source <name>`: a source folder (definition, signature scheme, record extraction, a
 * fixture builder and a test) and its line in the registry. The scaffold is a webhook source that
 * signs `<timestamp>.<body>` with HMAC-SHA256 in hex — the most common shape; edit it to the vendor's.
 * With `rest: true` it is a polled, declarative REST source instead (new-rest-source.mjs), its auth
 * one of bearer (default), api_key, basic, oauth.
 */
export function scaffoldSource(root, name, opts = {}) {
  if (!NAME.test(name)) throw new Error(`source name ${JSON.stringify(name)} must match ${NAME} (lowercase, digits, _)`);
  const dir = join(root, "src", "sources", name);
  if (existsSync(dir)) throw new Error(`src/sources/${name} already exists`);
  const registryPath = join(root, "src", "sources", "registry.ts");
  const registry = readFileSync(registryPath, "utf8");
  const id = camel(name);
  if (new RegExp(`\\bimport \\{ ${id} \\}`).test(registry) || registry.includes(`name: "${name}"`))
    throw new Error(`the registry already has ${name}`);
  const files = opts.rest ? restTemplates(name, { auth: opts.auth, stream: opts.stream }) : templates(name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  writeFileSync(registryPath, addToRegistry(registry, name));
  const vars = opts.rest ? restVars(name, opts.auth) : { [`${name.toUpperCase()}_WEBHOOK_SECRET`]: "the vendor's signing secret" };
  return { dir, files: Object.keys(files).map((f) => `src/sources/${name}/${f}`), secret: Object.keys(vars)[0], vars };
}

/** One import after the last source import, one entry before the array's end. */
export function addToRegistry(registry, name) {
  const id = camel(name);
  const imports = [...registry.matchAll(/^import .* from "\.\/[^"]+";$/gm)];
  const last = imports.at(-1);
  if (!last) throw new Error("registry.ts: no import lines found");
  const at = last.index + last[0].length;
  let out = `${registry.slice(0, at)}\nimport { ${id} } from "./${name}";${registry.slice(at)}`;
  const start = out.indexOf("export const sources");
  const end = out.indexOf("\n];", start);
  if (start < 0 || end < 0) throw new Error("registry.ts: the sources array was not found");
  out = `${out.slice(0, end)}\n  ${id},${out.slice(end)}`;
  return out;
}

function templates(name) {
  const id = camel(name);
  const P = pascal(name);
  const header = name.replace(/_/g, "-");
  return {
    "index.ts": `import { defineSource } from "../define-source";
import { ${id}WebhookRecords } from "./events";
import { ${id}Scheme } from "./signature";

/** ${P}: scaffolded by \`dock new-source\`. Secret: ${name.toUpperCase()}_WEBHOOK_SECRET (and _PREVIOUS while rotating). */
export const ${id} = defineSource({
  name: "${name}",
  title: "${P}",
  webhook: { scheme: ${id}Scheme, toleranceSeconds: 300, records: ${id}WebhookRecords },
  reconcile: { unsupported: "scaffolded: describe the vendor's event listing to reconcile it" },
});
`,
    "signature.ts": `import type { HmacScheme } from "../../webhooks/types";
import { concatBytes } from "../../webhooks/verify";
import { singleHeader } from "../webhook-helpers";

/** \`X-${P}-Signature: sha256=<hex>\`, an HMAC-SHA256 of \`<X-${P}-Timestamp>.<raw body>\`. Change it to how the vendor signs. */
export const ${id}Scheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "hex",
  parse(req) {
    const value = singleHeader(req.headers, "x-${header}-signature");
    const ts = singleHeader(req.headers, "x-${header}-timestamp");
    if (!value?.startsWith("sha256=") || !ts || !/^\\d{1,12}$/.test(ts)) return null;
    return { signatures: [value.slice("sha256=".length)], timestamp: Number(ts), rawTimestamp: ts };
  },
  message: (req, parsed) => concatBytes(\`\${parsed.rawTimestamp as string}.\`, req.body),
};
`,
    "events.ts": `import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { streamName } from "../webhook-helpers";

/** One record per delivery: the event's \`id\` is the dedupe key; its \`type\` (\`order.created\`) names the stream (\`orders\`). */
export function ${id}WebhookRecords(input: WebhookInput): WebhookRecord[] {
  const body = input.json as { id?: unknown; type?: unknown; data?: { id?: unknown } } | null;
  const id = typeof body?.id === "string" || typeof body?.id === "number" ? String(body.id) : null;
  if (!id) throw new Error("no event id in the body");
  const type = typeof body?.type === "string" ? body.type : "";
  const key = typeof body?.data?.id === "string" || typeof body?.data?.id === "number" ? String(body.data.id) : id;
  return [{ stream: type ? streamName(type.split(".")[0] ?? type) : "events", key, version: id, op: /\\.deleted$/.test(type) ? "delete" : "event", eventId: id }];
}
`,
    "fixtures.ts": `import { toHex } from "../../lib/bytes";
import { hmac } from "../../lib/crypto";

/** A ${P} event as the vendor sends it: \`a${P}Event().withType("order.created").withDataId("o_1").build()\`. */
export function a${P}Event() {
  const event = { id: \`evt_\${crypto.randomUUID().slice(0, 8)}\`, type: "order.created", created: Math.floor(Date.now() / 1000), data: { id: "o_1" } as Record<string, unknown> };
  const builder = {
    withId: (id: string) => ((event.id = id), builder),
    withType: (type: string) => ((event.type = type), builder),
    withDataId: (id: string) => ((event.data.id = id), builder),
    build: () => JSON.stringify(event),
  };
  return builder;
}

/** The request the vendor would send, signed with \`secret\` at \`nowSeconds\`. */
export async function signed${P}Request(body: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<Request> {
  const ts = String(nowSeconds);
  const mac = toHex(await hmac("SHA-256", secret, \`\${ts}.\${body}\`));
  return new Request("https://dock.example/webhooks/${name}", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-${header}-signature": \`sha256=\${mac}\`, "x-${header}-timestamp": ts },
  });
}
`,
    [`${name}.test.ts`]: `import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleWebhook } from "../../webhooks/route";
import { findSource } from "../registry";
import { ${id}WebhookRecords } from "./events";
import { a${P}Event, signed${P}Request } from "./fixtures";
import { ${id} } from "./index";

const SECRET = "${name}-test-secret";
const withSecret = { ...env, ${name.toUpperCase()}_WEBHOOK_SECRET: SECRET } as never;
const find = (n: string) => (n === "${name}" ? ${id} : undefined);

describe("${name} source", () => {
  it("given the registry, then it knows ${name}", () => {
    expect(findSource("${name}")).toBe(${id});
  });

  it("given a signed event, when delivered, then 200 with one record on INGEST", async () => {
    const body = a${P}Event().withType("order.created").withDataId("o_42").build();
    const res = await handleWebhook(await signed${P}Request(body, SECRET), withSecret, "${name}", find);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, records: 1 });
  });

  it("given a forged or stale signature, then 401", async () => {
    const body = a${P}Event().build();
    expect((await handleWebhook(await signed${P}Request(body, "not-the-secret"), withSecret, "${name}", find)).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 3600;
    expect((await handleWebhook(await signed${P}Request(body, SECRET, stale), withSecret, "${name}", find)).status).toBe(401);
  });

  it("given an event, then its id is the dedupe key and its type names the stream", () => {
    const text = a${P}Event().withId("evt_1").withType("invoice.deleted").withDataId("in_9").build();
    expect(${id}WebhookRecords({ text, json: JSON.parse(text), headers: new Headers(), url: "https://dock.example/webhooks/${name}" })).toEqual([
      { stream: "invoices", key: "in_9", version: "evt_1", op: "delete", eventId: "evt_1" },
    ]);
  });
});
`,
  };
}
