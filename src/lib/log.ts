import { COMMON_FIELDS, type CommonField, LOG_EVENTS, type LogEvent } from "./log-events";

/**
 * One JSON line per event, with the same fields everywhere, so Workers Logs can filter on them:
 * `level`, `time`, `event`, then the common fields `source`, `stream`, `pattern`, `run_id`,
 * `records`, `ms`, `error` on every line — null where the event has none — then its own fields.
 * Callers pass facts, never secrets: error texts go through redact() here whatever the caller did.
 */
interface CommonValues {
  source: string;
  stream: string;
  pattern: string;
  run_id: string;
  records: number;
  ms: number;
  error: string;
}
type Extra = { [extra: string]: string | number | boolean | null | undefined };
/** An event's fields: the common fields it always has (src/lib/log-events.ts) required, the others optional. */
type FieldsOf<E extends LogEvent> = { event: E } & { [K in (typeof LOG_EVENTS)[E][number]]: CommonValues[K] } & {
  [K in CommonField]?: CommonValues[K] | null;
} & Extra;
export type LogFields = { [E in LogEvent]: FieldsOf<E> }[LogEvent];

type Sink = (line: string) => void;
let sink: Sink = (line) => console.log(line);

/** Tests capture every line through this. */
export function setLogSink(next: Sink | undefined): void {
  sink = next ?? ((line) => console.log(line));
}

export function log(level: "info" | "warn" | "error", fields: LogFields): void {
  write(level, fields);
}

/**
 * What the Node sidecars log (`cdc.*`, `pull.*`, `mongo.*`, `sftp.*`, next to the database, not in the
 * Worker): the same line, the seven common fields always (null where not given).
 */
export type SidecarLogFields = { event: `${"cdc" | "pull" | "mongo" | "sftp"}.${string}` } & {
  [K in CommonField]?: CommonValues[K] | null;
} & Extra;

export function logSidecar(level: "info" | "warn" | "error", fields: SidecarLogFields): void {
  write(level, fields);
}

/** The run a stepped stream's own events belong to (they name the vendor's steps: src/sources/*). */
export interface StepRun {
  source: string;
  stream: string;
  pattern: string;
  run_id: string;
}

/**
 * What a stepped stream logs through its context (`ctx.log`): its own event names, with its run's
 * source, stream, pattern and run_id always, whatever its fields say.
 */
export function logStep(level: "info" | "warn" | "error", event: string, run: StepRun, fields: Record<string, unknown> = {}): void {
  write(level, { ...fields, event, ...run });
}

function write(level: "info" | "warn" | "error", fields: Record<string, unknown>): void {
  const { event, ...rest } = fields;
  const common: Record<string, unknown> = {};
  for (const k of COMMON_FIELDS) common[k] = rest[k] ?? null;
  // Error texts come from anywhere (a driver, a vendor's body): redacted here too, whatever the caller did.
  if (typeof common.error === "string") common.error = redact(common.error);
  // The common fields first and always (null when not given), the event's own after them.
  sink(JSON.stringify({ level, time: new Date().toISOString(), event, ...common, ...rest, ...common }));
}

/** For tests: the events log() accepts and the common fields each always carries. */
export const loggedEvents: Readonly<Record<string, readonly CommonField[]>> = LOG_EVENTS;

/** Names whose values are credentials, in a query, a form, JSON or a header (not pagination tokens). */
const CREDENTIAL_NAME =
  /token|secret|passw|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signature|credential|authorization|cookie/i;
/** Words that make a credential-like name something else: a page token, a token's type or URL. */
const NOT_A_CREDENTIAL = new Set(["page", "next", "sync", "continuation", "cursor", "type", "url", "uri", "endpoint", "expires"]);
/** Short names that are credentials only as query or form parameters (`?key=AIza…`, `&sig=…`). */
const CREDENTIAL_PARAM = /^(key|sig|auth|password|pass)$/i;

/** `nextPageToken`, `token_type`, `X-Amz-Security-Token` → their words, lower case. */
const wordsOf = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);

const isCredentialName = (name: string) => CREDENTIAL_NAME.test(name) && !wordsOf(name).some((w) => NOT_A_CREDENTIAL.has(w));

/** A value that looks like a credential rather than a word: long enough, with a digit, a symbol or mixed case. */
const looksLikeCredential = (value: string) =>
  value.length >= 8 && (/[0-9._~+/=-]/.test(value) || (/[A-Z]/.test(value.slice(1)) && /[a-z]/.test(value)));

/** Credential shapes that say what they are by their prefix, wherever they appear. */
const PREFIXED_SECRETS =
  /\b(?:(?:whsec|sk_live|sk_test|rk_live|rk_test|shpat|shpss|shpca|shppa)_[A-Za-z0-9+/=_-]+|xox[abeprs]-[A-Za-z0-9-]+|gh[opusr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|ya29\.[A-Za-z0-9._-]+|1\/\/[A-Za-z0-9_-]{20,}|pat-(?:na|eu|ap)\d-[A-Za-z0-9-]+|AIza[0-9A-Za-z_-]{30,}|AKIA[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g;
/** `Authorization: Basic …`, `x-api-key: …`, `Stripe-Signature: …` and the like, as a header line or `name=value`. */
const HEADER_VALUE =
  /\b(authorization|proxy-authorization|cookie|set-cookie|api-?key|[a-z0-9-]*-(?:token|key|secret|signature)(?:-[a-z0-9]+)?)(\s*[:=]\s*)((?:Bearer|Basic|Digest|Token|Bot)\s+)?([^\s"';&]+)/gi;
/** A credential after its scheme word: `Bearer abc.def`, `Basic dXNlcjpwYXNz`. The word stays. */
const SCHEME_VALUE = /\b(Bearer\s+)([A-Za-z0-9._~+/=-]+)|\b(Basic\s+)([A-Za-z0-9+/=]+)/gi;
/** `?name=value` / `&name=value` / `name=value` in a query, a form or prose. */
const PARAM_VALUE = /(^|[?&;\s,(])([A-Za-z0-9_.[\]-]{1,64})=([^&\s"'#,;)]*)/g;
/** `"name": "value"` in JSON. */
const JSON_VALUE = /"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
/** The password of a URL's user info: `https://user:password@host`. */
const URL_PASSWORD = /(\/\/[^/\s:@]+:)([^@\s/]+)@/g;

const REDACTED = "[redacted]";
const MIN_KNOWN_SECRET = 4;

/** Values of this isolate's env secrets (see rememberSecrets); redact() removes them from every text. */
const envSecrets = new Set<string>();
/** Env names that hold credentials: `…_TOKEN`, `…_SECRET`, `…_KEY` (and their `_PREVIOUS`), `ALERT_WEBHOOK_URL`. */
const SECRET_ENV_NAME = /(^|_)(TOKEN|SECRET|KEY|PASSWORD|PASSPHRASE|CREDENTIALS?)(_PREVIOUS)?$|^ALERT_WEBHOOK_URL$/;
const MIN_ENV_SECRET = 8;
const envsSeen = new WeakSet<object>();

/**
 * Remembers the values of the Worker's secrets (by their names) so that redact() removes them from
 * any text, whoever calls it and whether or not the caller knew which secrets were in play.
 */
export function rememberSecrets(env: Record<string, unknown>): void {
  if (envsSeen.has(env)) return;
  envsSeen.add(env);
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string" && value.length >= MIN_ENV_SECRET && SECRET_ENV_NAME.test(name)) envSecrets.add(value);
  }
}

/**
 * Removes credentials from a message meant for logs, errors or runs: the secrets the caller names
 * and the Worker's env secrets (rememberSecrets), wherever they appear; values of credential-named
 * parameters, JSON fields and headers; Bearer/Basic credentials; and credential shapes known by
 * their prefix. Only the values go: the words around them stay, so an error stays readable.
 */
export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  const secrets = [...knownSecrets.filter((s) => s && s.length >= MIN_KNOWN_SECRET), ...envSecrets];
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of secrets.sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  out = out.replace(PREFIXED_SECRETS, REDACTED);
  out = out.replace(HEADER_VALUE, (m, name: string, sep: string, scheme: string | undefined, value: string) =>
    looksLikeCredential(value) ? `${name}${sep}${scheme ?? ""}${REDACTED}` : m,
  );
  out = out.replace(SCHEME_VALUE, (m, bearer?: string, token?: string, basic?: string, pair?: string) =>
    looksLikeCredential((token ?? pair) as string) ? `${bearer ?? basic}${REDACTED}` : m,
  );
  out = out.replace(PARAM_VALUE, (m, lead: string, name: string, value: string) =>
    value && value !== REDACTED && (isCredentialName(name) || CREDENTIAL_PARAM.test(name)) ? `${lead}${name}=${REDACTED}` : m,
  );
  out = out.replace(JSON_VALUE, (m, name: string, sep: string, value: string) =>
    value && value !== REDACTED && isCredentialName(name) ? `"${name}"${sep}"${REDACTED}"` : m,
  );
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return out;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
