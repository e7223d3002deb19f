import { createInterface } from "node:readline";
import { parseD1List, parseR2BucketList, parseSecretList, parseTable, isWorkerNotFound, tail } from "./deploy-wrangler.mjs";

/** A wrangler call that failed (or answered something unreadable): the run stops here, naming the step. */
export class StepFailed extends Error {
  constructor(command, step, args, detail) {
    super(
      `${command} stopped at step "${step}": \`wrangler ${args.join(" ")}\` ${detail}\n` +
        `The steps before it are done and stay done; fix the cause and run \`dock ${command.replace(/^dock /, "")}\` again (it skips what is already right).`,
    );
    this.step = step;
  }
}

/**
 * `call(step, args, parse?, expectedFailure?)`: runs one wrangler command; a non-zero exit (unless
 * `expectedFailure` recognises it and says what it means) or an unreadable answer is a StepFailed.
 */
export function stepCaller(command, runner) {
  return async (step, args, parse = (r) => r, expectedFailure = () => undefined) => {
    const result = await runner(args);
    if (result.code !== 0) {
      const meaning = expectedFailure(result);
      if (meaning !== undefined) return meaning;
      throw new StepFailed(command, step, args, `exited with ${result.code}:\n${indent(tail(result))}`);
    }
    try {
      return parse(result);
    } catch (err) {
      throw new StepFailed(command, step, args, `printed something dock cannot read (${err.message}):\n${indent(tail(result))}`);
    }
  };
}

const indent = (text) =>
  text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

/** Both variables wrangler needs to act on an account without a login prompt. */
export function requireCredentials(env, command) {
  const missing = ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"].filter((name) => !env[name]);
  if (missing.length)
    throw new Error(
      `${command} needs ${missing.join(" and ")} in the environment (an API token with Workers Scripts, D1, ` +
        "Workers R2 Storage and Queues edit rights on the account; see README, Deploy). Nothing was called.",
    );
}

/** What exists on the account: D1 databases, buckets, queues (every page), and the Worker's secrets (null: no Worker). */
export async function readInventory(call, worker) {
  const databases = await call("list D1 databases", ["d1", "list", "--json"], (r) => parseD1List(r.stdout));
  const buckets = new Set(await call("list R2 buckets", ["r2", "bucket", "list"], (r) => parseR2BucketList(r.stdout)));
  const queues = await listQueues(call);
  const secrets = await call(
    "list the Worker's secrets",
    ["secret", "list", "--name", worker],
    (r) => new Set(parseSecretList(r.stdout)),
    (r) => (isWorkerNotFound(r) ? null : undefined),
  );
  return { databases, buckets, queues, secrets };
}

/** `wrangler queues list` shows one page; read pages until one is empty (or repeats the last). */
async function listQueues(call) {
  const names = new Set();
  for (let page = 1; page <= 100; page++) {
    const rows = await call("list queues", ["queues", "list", "--page", String(page)], (r) => parseTable(r.stdout));
    const fresh = rows.map((row) => row.name).filter((name) => name && !names.has(name));
    if (fresh.length === 0) break;
    for (const name of fresh) names.add(name);
  }
  return names;
}

/** Terminal I/O: lines out, and questions (typed secrets are not echoed). */
export function terminalIO() {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    ask: (question, { secret = false } = {}) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
        let muted = false;
        // readline has no hidden input: stop echoing after the question is written.
        rl._writeToOutput = (text) => {
          if (!muted) rl.output.write(text);
        };
        rl.question(question, (answer) => {
          rl.close();
          if (secret) process.stdout.write("\n");
          resolve(answer);
        });
        muted = secret;
      }),
  };
}
