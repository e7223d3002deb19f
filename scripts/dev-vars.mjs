import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Reads .dev.vars (creating it from .dev.vars.example on first run) as a plain object. */
export function loadDevVars(root = process.cwd()) {
  const file = join(root, ".dev.vars");
  if (!existsSync(file)) copyFileSync(join(root, ".dev.vars.example"), file);
  return readVarsFile(file);
}

/** Reads a .dev.vars-style file (NAME=value lines) as a plain object. */
export function readVarsFile(file) {
  const vars = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}
