import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import path from "node:path";

/** The state directory when nothing names one, relative to the working directory. */
export const DEFAULT_STATE_DIR = ".dock-state";

/**
 * Where the sidecars keep what they must find again after a restart (snapshot progress, poll
 * cursors, resume tokens, the SFTP ledger): DOCK_STATE_DIR, else the directory systemd made for
 * the unit (`StateDirectory=` sets STATE_DIRECTORY), else ./.dock-state. Always absolute, so the
 * start-up log names exactly where it is.
 */
export function stateDirOf(env: NodeJS.ProcessEnv, configured?: string): string {
  const fromSystemd = env.STATE_DIRECTORY?.split(":")[0];
  return path.resolve(configured || env.DOCK_STATE_DIR || fromSystemd || DEFAULT_STATE_DIR);
}

/** Creates the state directory (0700) and checks it can be written; the problem, or null. */
export function stateDirProblem(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    return `the state directory ${dir} cannot be created or written (${(err as Error).message}): set DOCK_STATE_DIR to a directory this user can write`;
  }
}

/**
 * A state file whose setting was left unset, in the state directory. An earlier version kept it
 * at `legacy` in the working directory; if such a file is still there (and the new one is not),
 * starting would silently lose the position it holds, so this names the move instead.
 */
export function movedStateProblem(file: string, legacy: string, setting: string): string | null {
  const old = path.resolve(legacy);
  if (old === file || !existsSync(old) || existsSync(file)) return null;
  return `${old} holds state an earlier version kept in the working directory; state now lives in the state directory: move it to ${file} (or set ${setting}=${old})`;
}
