import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const OWN_WRANGLER = fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url));

/**
 * Runs `wrangler <args>` and collects what it printed: DOCK_WRANGLER when set (the tests' fake),
 * else the checkout's pinned wrangler, else the one on PATH. Never interactive (stdin closed), so
 * wrangler takes its CI paths: no prompts, CLOUDFLARE_API_TOKEN / CLOUDFLARE_ACCOUNT_ID.
 */
export function wranglerRunner({ root, env = process.env }) {
  const local = join(root, "node_modules", ".bin", "wrangler");
  const bin = env.DOCK_WRANGLER || (existsSync(local) ? local : existsSync(OWN_WRANGLER) ? OWN_WRANGLER : "wrangler");
  return (args) =>
    new Promise((resolve, reject) => {
      const child = spawn(bin, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("error", (err) =>
        reject(new Error(`cannot run ${bin} (${err.code ?? err.message}): run \`npm install\` in the checkout first`)),
      );
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

const plain = (text) => text.replace(/\x1b\[[0-9;]*m/g, "");

/** The JSON wrangler printed (`--json` outputs), ignoring anything before it. */
export function parseJsonOutput(stdout) {
  const text = plain(stdout);
  const at = text.search(/^[[{]/m);
  if (at < 0) throw new Error("wrangler printed no JSON");
  return JSON.parse(text.slice(at));
}

/** `wrangler d1 list --json` → [{ name, uuid }]. */
export function parseD1List(stdout) {
  const list = parseJsonOutput(stdout);
  if (!Array.isArray(list)) throw new Error("`wrangler d1 list --json` did not print a list");
  return list.map((db) => ({ name: db.name, uuid: db.uuid }));
}

/** Blocks of `label: value` lines, separated by blank lines (r2 bucket list, notification list). */
export function parseLabelledBlocks(stdout) {
  const blocks = [];
  let current = null;
  for (const line of plain(stdout).split("\n")) {
    const m = /^([a-z_]+):\s+(.*?)\s*$/.exec(line);
    if (!m) {
      current = null;
      continue;
    }
    if (!current) {
      current = {};
      blocks.push(current);
    }
    current[m[1]] = m[2];
  }
  return blocks;
}

/** `wrangler r2 bucket list` → bucket names. */
export function parseR2BucketList(stdout) {
  return parseLabelledBlocks(stdout)
    .filter((b) => b.name !== undefined)
    .map((b) => b.name);
}

/** `wrangler r2 bucket notification list <bucket>` → [{ queue, prefix, eventTypes }]. */
export function parseNotificationList(stdout) {
  return parseLabelledBlocks(stdout)
    .filter((b) => b.queue_name !== undefined)
    .map((b) => ({
      queue: b.queue_name,
      prefix: b.prefix === "(all prefixes)" ? "" : (b.prefix ?? ""),
      actions: (b.event_type ?? "").split(",").filter(Boolean),
    }));
}

/** The rows of a table wrangler drew (cli-table3 box characters), as objects keyed by its header. */
export function parseTable(stdout) {
  const rows = plain(stdout)
    .split("\n")
    .filter((line) => line.startsWith("│"))
    .map((line) =>
      line
        .split("│")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const [head, ...body] = rows;
  if (!head) return [];
  return body.map((cells) => Object.fromEntries(head.map((key, i) => [key, cells[i] ?? ""])));
}

/** `wrangler secret list` (JSON) → secret names. */
export function parseSecretList(stdout) {
  const list = parseJsonOutput(stdout);
  if (!Array.isArray(list)) throw new Error("`wrangler secret list` did not print a list");
  return list.map((s) => s.name);
}

/** wrangler's answer when the Worker does not exist (yet, or any more). */
export function isWorkerNotFound(result) {
  return /Worker "[^"]+".* not found|This Worker does not exist|workers\.api\.error\.script_not_found|\[code: 10007\]/.test(
    plain(`${result.stderr}\n${result.stdout}`),
  );
}

/** `wrangler r2 bucket info <bucket> --json` → its object count (wrangler prints it with thousands separators). */
export function parseObjectCount(stdout) {
  const info = parseJsonOutput(stdout);
  const count = Number(String(info.object_count ?? "").replace(/[^0-9]/g, ""));
  if (!Number.isFinite(count) || String(info.object_count ?? "") === "") throw new Error("no object_count in `wrangler r2 bucket info`");
  return count;
}

/** The workers.dev URL `wrangler deploy` printed among its targets, if it has one. */
export function parseDeployUrl(stdout) {
  return /^\s+(https:\/\/\S+\.workers\.dev)\s*$/m.exec(plain(stdout))?.[1] ?? null;
}

/** The last lines wrangler printed, for an error message (its own error text is usually there). */
export function tail(result, lines = 15) {
  const text = plain(`${result.stdout}\n${result.stderr}`)
    .split("\n")
    .filter((l) => l.trim() !== "");
  return text.slice(-lines).join("\n");
}
