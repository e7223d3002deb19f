import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repo = resolve(import.meta.dirname, "../..");
const FAKE = join(repo, "cli/test-helpers/fake-wrangler.mjs");

/** A checkout to deploy from: its own wrangler.toml (which a test may change), the repo's code linked. */
export function makeRoot(edit: (toml: string) => string = (t) => t): string {
  const root = mkdtempSync(join(tmpdir(), "dock-deploy-"));
  writeFileSync(join(root, "wrangler.toml"), edit(readFileSync(join(repo, "wrangler.toml"), "utf8")));
  copyFileSync(join(repo, ".dev.vars.example"), join(root, ".dev.vars.example"));
  for (const entry of ["src", "migrations", "node_modules", "package.json", "tsconfig.json"])
    symlinkSync(join(repo, entry), join(root, entry));
  return root;
}

export interface FakeAccount {
  dir: string;
  state: string;
  bin: string;
  env: Record<string, string>;
}

/** A fake Cloudflare account: the fake wrangler's state file, and an environment that points dock at it. */
export function fakeAccount(preset: object = {}, extraEnv: Record<string, string> = {}): FakeAccount {
  const dir = mkdtempSync(join(tmpdir(), "dock-fake-account-"));
  const state = join(dir, "state.json");
  writeFileSync(state, JSON.stringify(preset));
  const bin = join(dir, "wrangler");
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`);
  chmodSync(bin, 0o755);
  // Only what the run needs: no stray vendor variable of the test runner's environment leaks in.
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    DOCK_WRANGLER: bin,
    FAKE_WRANGLER_STATE: state,
    CLOUDFLARE_API_TOKEN: "test-api-token",
    CLOUDFLARE_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
    ...extraEnv,
  };
  return { dir, state, bin, env };
}

export interface FakeState {
  d1: { name: string; uuid: string }[];
  buckets: { name: string; objects: number; lifecycle: { name: string; days: number }[] }[];
  queues: { name: string }[];
  notifications: Record<string, { queue: string; prefix: string; actions: string[] }[]>;
  workers: Record<string, { secrets: Record<string, string>; deployments: number; migrations: string[]; crons: string[] }>;
  d1Applied: Record<string, string[]>;
  calls: string[][];
}

export function readState(account: FakeAccount): FakeState {
  return JSON.parse(readFileSync(account.state, "utf8"));
}

/** Captured output, and a terminal that answers from a list (or none: not interactive). */
export function captureIO(answers?: string[]) {
  const lines: string[] = [];
  const questions: string[] = [];
  return {
    lines,
    questions,
    text: () => lines.join("\n"),
    io: {
      out: (line: string) => lines.push(line),
      interactive: answers !== undefined,
      ask: async (question: string) => {
        questions.push(question);
        return answers?.shift() ?? "";
      },
    },
  };
}

export const fileIfExists = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : null);
