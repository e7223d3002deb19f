import { errorText, logSidecar, redact, type SidecarLogFields } from "../../src/lib/log";

/** The project's JSON log line, with secrets scrubbed from error texts. */
export function log(level: "info" | "warn" | "error", fields: SidecarLogFields, secrets: readonly string[] = knownSecrets): void {
  const out = { ...fields };
  if (typeof out.error === "string") out.error = redact(out.error, secrets);
  logSidecar(level, { pattern: "cdc", ...out });
}

let knownSecrets: string[] = [];
export function registerSecrets(secrets: string[]): void {
  knownSecrets = secrets.filter(Boolean);
}

export { errorText };
