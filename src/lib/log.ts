/**
 * One JSON line per event, with the same fields everywhere, so Workers Logs can filter on them.
 * Callers pass facts, never secrets: error texts go through redact() first.
 */
export interface LogFields {
  event: string;
  source?: string;
  stream?: string;
  pattern?: string;
  run_id?: string;
  records?: number;
  ms?: number;
  error?: string;
  [extra: string]: string | number | boolean | null | undefined;
}

type Sink = (line: string) => void;
let sink: Sink = (line) => console.log(line);

/** Tests capture every line through this. */
export function setLogSink(next: Sink | undefined): void {
  sink = next ?? ((line) => console.log(line));
}

export function log(level: "info" | "warn" | "error", fields: LogFields): void {
  sink(JSON.stringify({ level, time: new Date().toISOString(), ...fields }));
}

const SECRET_PATTERNS: RegExp[] = [
  /(authorization|api[_-]?key|token|secret|password|signature|sig|key)(["'=:\s]+)([^\s"'&,;]+)/gi,
  /\b(whsec|sk_live|sk_test|rk_live|rk_test|xox[abpr])_[A-Za-z0-9+/=_-]+/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bBasic\s+[A-Za-z0-9+/=]+/gi,
];

/** Removes anything that looks like a credential from a message meant for logs, errors or runs. */
export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  out = out.replace(SECRET_PATTERNS[0] as RegExp, "$1$2[redacted]");
  for (const pattern of SECRET_PATTERNS.slice(1)) out = out.replace(pattern, "[redacted]");
  return out;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
