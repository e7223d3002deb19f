import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");

/** The sidecar as a real child process (`node --import tsx sidecar/src/main.ts`), so it can be killed with SIGKILL. */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(env: Record<string, string>, logFile: string) {
    const out = createWriteStream(logFile, { flags: "a" });
    this.child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "sidecar/src/main.ts")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.pipe(out, { end: false });
    this.child.stderr?.pipe(out, { end: false });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  kill9(): Promise<number | null> {
    this.child.kill("SIGKILL");
    return this.exited;
  }

  async terminate(): Promise<number | null> {
    this.child.kill("SIGTERM");
    return this.exited;
  }

  /** Peak resident set size in bytes (VmHWM), read while the process lives. */
  peakRss(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  }
}
