import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const ENTRY = [
  'export { sources } from "./src/sources/registry";',
  'export { configurationProblem } from "./src/pollers/configuration";',
  'export { secretName } from "./src/webhooks/secrets";',
].join("\n");

/**
 * The sources of the checkout being deployed, from its registry (bundled in memory with esbuild:
 * the CLI is plain Node and the registry is TypeScript), and the settings each one reads:
 *
 * - `webhook`: `<NAME>_WEBHOOK_SECRET` and the variables its webhook spec names (`config`);
 * - `poll`: what the poll engine says is missing when nothing is set, asked again with each
 *   named setting filled until it is satisfied (an entry may be alternatives: "A or B");
 * - `reconcile`: the variables its listing names;
 * - `reads`: all of the above, plus every `"<NAME>_…"` string in the source's folder (credentials
 *   a run reads by name) and the overrides every source has (`_API_BASE`, `_WEBHOOK_SECRET_PREVIOUS`).
 */
export async function loadSources(root) {
  const esbuild = await import("esbuild");
  const out = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: root, loader: "ts", sourcefile: "dock-deploy-sources.ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}#${pathToFileURL(root)}`);
  return mod.sources.map((source) => describeSource(root, source, mod));
}

function describeSource(root, source, { configurationProblem, secretName }) {
  const prefix = `${source.name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_`;
  const webhook = source.webhook ? [secretName(source.name), ...(source.webhook.config ?? [])] : [];
  const poll = source.streams?.length ? pollSettings(source, configurationProblem) : [];
  const listing = source.reconcile && !("unsupported" in source.reconcile) ? source.reconcile : null;
  const reconcile = [...(listing?.config ?? [])];
  const reads = new Set([
    ...webhook,
    ...poll.flatMap((entry) => entry.split(" or ")),
    ...reconcile,
    ...namesInFolder(join(root, "src", "sources", source.name), prefix),
    `${prefix}API_BASE`,
  ]);
  if (source.webhook) reads.add(`${secretName(source.name)}_PREVIOUS`);
  return { name: source.name, title: source.title, prefix, webhook, poll, reconcile, reads: [...reads].sort() };
}

/** What the poll engine asks for, with each named setting filled in turn until it asks for nothing more. */
function pollSettings(source, configurationProblem) {
  const env = {};
  const found = [];
  for (let round = 0; round < 10; round++) {
    const problem = configurationProblem(source, env);
    const fresh = (problem?.missing ?? []).filter((entry) => !found.includes(entry));
    if (fresh.length === 0) break;
    for (const entry of fresh) {
      found.push(entry);
      const name = entry.split(" or ")[0];
      env[name] = /_(URL|BASE)$/.test(name) ? "https://placeholder.invalid" : "placeholder";
    }
  }
  return found;
}

/** Settings of this source named in its folder's code (not tests): `"STRIPE_API_KEY"` or `env.STRIPE_API_VERSION`. */
function namesInFolder(dir, prefix) {
  if (!existsSync(dir)) return [];
  const names = new Set();
  const literal = new RegExp(`(?:"|\\benv\\??\\.)(${prefix}[A-Z0-9_]*[A-Z0-9])\\b`, "g");
  for (const file of readdirSync(dir, { recursive: true })) {
    const path = String(file);
    if (!path.endsWith(".ts") || /\.test\.ts$|fixtures?\b|fixture-/.test(path)) continue;
    for (const m of readFileSync(join(dir, path), "utf8").matchAll(literal)) names.add(m[1]);
  }
  return [...names];
}
