import { errorText, logSidecar, redact, type SidecarLogFields } from "../../src/lib/log";

let secrets: string[] = [];
export function registerSecrets(list: string[]): void {
  secrets = list.filter(Boolean);
}

/** The project's JSON log line (pattern `file`), with secrets scrubbed from error texts. */
export function log(level: "info" | "warn" | "error", fields: SidecarLogFields): void {
  const out = { ...fields };
  if (typeof out.error === "string") out.error = redact(out.error, secrets);
  logSidecar(level, { pattern: "file", ...out });
}

export { errorText };
