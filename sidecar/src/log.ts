import { errorText, type LogFields, log as projectLog, redact } from "../../src/lib/log";

/** The project's JSON log line, with secrets scrubbed from error texts. */
export function log(level: "info" | "warn" | "error", fields: LogFields, secrets: readonly string[] = knownSecrets): void {
  const out = { ...fields };
  if (typeof out.error === "string") out.error = redact(out.error, secrets);
  projectLog(level, { pattern: "cdc", ...out });
}

let knownSecrets: string[] = [];
export function registerSecrets(secrets: string[]): void {
  knownSecrets = secrets.filter(Boolean);
}

export { errorText };
