/** Something found at start that stops the sidecar before it reads anything. */
export interface StartupProblem {
  /** What is wrong and what to set or run to fix it. */
  message: string;
  /** Could pass later without anyone changing a setting (a server not up yet): exit 1, not 2. */
  transient?: boolean;
}

/**
 * Exit status for problems found at start: 1 when waiting might fix them all (a server not up
 * yet: a service manager may restart it), else 2 (a setting to change first; the systemd unit
 * does not restart on 2).
 */
export function startupExitCode(problems: readonly StartupProblem[]): number {
  return problems.every((p) => p.transient) ? 1 : 2;
}
