import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, writeFileSync } from "node:fs";
import { readVarsFile } from "../../scripts/dev-vars.mjs";

/** A fresh secret: `token` is 32 random bytes base64url; `whsec` is the Standard Webhooks form, whsec_<base64>. */
export function generateSecret(format) {
  const bytes = randomBytes(32);
  return format === "whsec" ? `whsec_${bytes.toString("base64")}` : bytes.toString("base64url");
}

/** The secrets file (NAME=value lines, like .dev.vars), or nothing when there is none. */
export function readSecretsFile(path) {
  return existsSync(path) ? readVarsFile(path) : {};
}

/** Adds NAME=value lines to the secrets file, creating it readable by its owner only. */
export function saveSecrets(path, values) {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  if (!existsSync(path))
    writeFileSync(
      path,
      "# Production secrets for `dock deploy` (git-ignored, owner-only). Ours are generated here; add vendor ones as NAME=value.\n",
      { mode: 0o600 },
    );
  appendFileSync(path, `${entries.map(([k, v]) => `${k}=${v}`).join("\n")}\n`);
  chmodSync(path, 0o600);
}

/**
 * What to do with each secret, given what the Worker already has (`remote`), the environment and
 * the secrets file. A secret already set is kept (never regenerated, never overwritten) unless it is
 * in `replace`. Ours not set are taken from the environment or the file, else generated; vendor and
 * optional ones are set when given. Names in the file the deploy does not know are set too (the
 * file is the operator's), with a warning; names that are wrangler.toml [vars] are refused.
 */
export function resolveSecrets({ catalog, remote, env, file, replace = [], vars = {} }) {
  const toSet = {};
  const generated = {};
  const kept = [];
  const warnings = [];
  const isSet = (name) => remote.has(name) && !replace.includes(name);
  for (const entry of catalog.values()) {
    const { name } = entry;
    if (isSet(name)) {
      kept.push(name);
      continue;
    }
    const given = nonEmpty(env[name]) ?? nonEmpty(file[name]);
    if (given !== undefined) toSet[name] = given;
    else if (entry.kind === "generated") {
      generated[name] = generateSecret(entry.format);
      toSet[name] = generated[name];
    }
  }
  for (const [name, value] of Object.entries(file)) {
    if (catalog.has(name) || !nonEmpty(value)) continue;
    if (name in vars) {
      warnings.push(`${name} in the secrets file is a [vars] entry of wrangler.toml: change it there (not set as a secret)`);
      continue;
    }
    if (isSet(name)) kept.push(name);
    else {
      toSet[name] = value;
      warnings.push(
        `${name} (from the secrets file) is not a setting the deploy knows any source to read: set anyway — check its spelling`,
      );
    }
  }
  return { toSet, generated, kept, warnings };
}

const nonEmpty = (value) => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined);

/** Per source: which of its needed settings (webhook; poll, where "A or B" needs one of them) are still unset. */
export function sourceReadiness(sources, isSet) {
  return sources.map((source) => {
    const unsetWebhook = source.webhook.filter((name) => !isSet(name));
    const unsetPoll = source.poll.filter((entry) => !entry.split(" or ").some(isSet));
    return { source, unsetWebhook, unsetPoll };
  });
}
