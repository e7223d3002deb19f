import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");

/**
 * What `npm ci --omit=dev` leaves of the project, made offline: package.json, the committed
 * sidecar/dist, and a node_modules holding copies of exactly the packages `npm ls --omit=dev`
 * lists (no tsx, no esbuild, no TypeScript sources). Copies, not links: a linked package would
 * resolve its own imports from the full node_modules and hide a missing production dependency.
 */
export function productionInstall(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "dock-prod-install-"));
  cpSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
  cpSync(path.join(ROOT, "sidecar", "dist"), path.join(dir, "sidecar", "dist"), { recursive: true });
  const ls = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" });
  const top = path.join(ROOT, "node_modules") + path.sep;
  const packages = ls.stdout
    .split("\n")
    .filter((p) => p.startsWith(top))
    .map((p) => p.slice(top.length))
    // Nested copies come with the package they are nested in.
    .filter((rel) => !rel.includes(`${path.sep}node_modules${path.sep}`));
  if (!packages.includes("pg") || !packages.includes("zod"))
    throw new Error(`npm ls --omit=dev listed no pg/zod:\n${ls.stdout}${ls.stderr}`);
  mkdirSync(path.join(dir, "node_modules"));
  for (const rel of packages) cpSync(path.join(top, rel), path.join(dir, "node_modules", rel), { recursive: true });
  return dir;
}

/** Whether `name` can be imported by a file of `dir`'s sidecar/dist. */
export function resolvable(dir: string, name: string): boolean {
  try {
    createRequire(path.join(dir, "sidecar", "dist", "x.mjs")).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** A built sidecar run with plain `node` (no loader), its JSON log lines collected. */
export class BuiltProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private out = "";
  constructor(install: string, file: string, args: string[], env: Record<string, string>, cwd = install) {
    this.child = spawn(process.execPath, [path.join(install, "sidecar", "dist", file), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d) => {
      this.out += d;
    });
    this.child.stderr?.on("data", (d) => {
      this.out += d;
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  get output(): string {
    return this.out;
  }

  /** Log lines (JSON) with this event. */
  events(event: string): { event: string; error?: string; [k: string]: unknown }[] {
    return this.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event: string })
      .filter((l) => l.event === event);
  }

  /** The exit code, or an error with the output if it does not exit within `ms`. */
  async exit(ms = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${this.out}`)), ms);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async terminate(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    return this.exit(60_000);
  }
}
