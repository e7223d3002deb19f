import type { Span } from "../envelope/json-spans";

/**
 * The poll contract, read by the poll engine and written by sources. Everything here is data,
 * with a function where a vendor needs one; nothing names a vendor.
 */

/** A request as the engine builds it: serialisable, so a continuation can be stored in D1. */
export interface PageRequest {
  /** A path relative to the source's base URL, or an absolute URL (next links). */
  url: string;
  query: Record<string, string>;
  /** Default GET. A POST carries `body` (JSON text unless `headers` say otherwise). */
  method?: "GET" | "POST";
  body?: string;
  /** Request-specific headers, sent with (and under) the credentials' headers. */
  headers?: Record<string, string>;
  /** Error statuses that are an answer, not a failure (a 404 for "no data"): handed back as they are. */
  acceptStatuses?: number[];
}

/** A failed answer as a throttle classifier sees it. */
export interface FailedAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Vendor throttling beyond 429 + Retry-After: a source may say that an answer is a throttle (a
 * quota error in the body, a 400 with a rate-limit code) and how long to wait, and may read usage
 * headers on successful answers to slow itself down before it is throttled.
 */
export interface ThrottleHooks {
  /** A non-2xx answer that is really "slow down": retried like a 429, after `waitMs` when given. */
  classify?(answer: FailedAnswer, nowMs: number): { waitMs?: number; reason: string } | undefined;
  /** ms to hold the source back after a successful answer (usage near the cap); 0/undefined = none. */
  usage?(headers: Headers, nowMs: number): number | undefined;
}

/** One answer from the vendor, as the pagination styles and record selectors see it. */
export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  /** How many records the page held. */
  count: number;
  /** The first and last record's primary key, for starting_after / ending_before. */
  firstKey?: string;
  lastKey?: string;
  /** The first and the highest cursor value on the page, as the vendor wrote them (updated_at or id cursors). */
  firstCursor?: string;
  maxCursor?: string;
}

/** Where a style says the next page is; null when the stream is done. Must be JSON-serialisable. */
export type NextPage = Record<string, string | number> | null;

export interface PaginationContext {
  pageSize: number;
  /** The Worker's variables, for a style whose request depends on configuration (which fields to ask for). */
  env?: Record<string, unknown>;
}

/**
 * A pagination style is three small functions: the first request, what a response says about
 * the next page, and how that changes the request. The built-in styles are data that compile to
 * this shape; a source with an odd API passes its own object of the same shape.
 */
export interface PaginationStyle {
  name: string;
  first(base: PageRequest, ctx: PaginationContext): PageRequest;
  next(response: PageResponse, request: PageRequest, ctx: PaginationContext): NextPage;
  apply(first: PageRequest, next: Exclude<NextPage, null>): PageRequest;
}

export type PaginationSpec =
  | { style: "none" }
  /** A URL in the body (`links.next`), absolute or relative to the base URL. */
  | { style: "next_link"; path: string; limitParam?: string }
  /** RFC 8288 `Link: <…>; rel="next"`. */
  | { style: "link_header"; limitParam?: string }
  /** An opaque token in the body, sent back as a query parameter. */
  | { style: "cursor"; path: string; param: string; hasMorePath?: string; limitParam?: string }
  /** The last (or first) record's id, sent as `starting_after` (or `ending_before`). */
  | { style: "after_id"; param: string; hasMorePath?: string; direction?: "after" | "before"; limitParam?: string }
  | { style: "offset"; offsetParam?: string; limitParam?: string; totalPath?: string }
  | { style: "page"; param?: string; sizeParam?: string; firstPage?: number; totalPagesPath?: string; hasMorePath?: string };

export type CursorKind = "updated_at" | "token" | "id";

export interface CursorSpec {
  kind: CursorKind;
  /**
   * updated_at / id: the record field holding the value (dotted path).
   * token: the body field holding the next sync token (read on the last page).
   */
  field: string;
  /** The query parameter that carries the cursor; omitted on a stream's very first run. */
  param: string;
  /** updated_at only: how far before the stored cursor the next run starts (seconds, default 300). */
  lookbackSeconds?: number;
  /** updated_at only: how the vendor writes times (default iso). */
  format?: "iso" | "unix" | "unix_ms";
  /**
   * True when pages come in ascending cursor order: the stored cursor then moves at every page
   * checkpoint, so a failed run keeps its progress. Otherwise it moves when the run succeeds.
   */
  ascending?: boolean;
  /**
   * With `ascending`: fetch each next page from the highest cursor value seen (`param >= value`)
   * instead of the vendor's page token, so rows that move while a run pages cannot be skipped
   * (see keyset.ts). For vendors whose page tokens are offsets.
   */
  keyset?: boolean;
}

export interface RateLimitSpec {
  /** The vendor's published cap: `requests` per `perSeconds`. The engine uses RATE_FRACTION of it. */
  requests: number;
  perSeconds: number;
}

/** Where the records of a page are: a dotted path to an array ("" = the body is the array), or a function. */
export type RecordSelector = string | ((page: { text: string; json: unknown }) => Span[]);

/** One record of a page as a source's function sees it: its JSON text, verbatim, and its fields. */
export interface RecordView {
  text: string;
  /** A scalar field (dotted path) as text, read like primary keys are (64-bit integers keep every digit). */
  field(path: string): string | undefined;
  /** The record parsed, for reading only: never re-serialised into the raw zone. */
  value(): unknown;
}

export type RecordOp = "upsert" | "delete" | "event";

/** Per-record facts a stream may override; anything absent keeps the engine's default. */
export interface RecordMeta {
  key?: string;
  version?: string;
  op?: RecordOp;
  /** Poll runs: the stream the record is filed under (an events feed filed by the object it is about). */
  stream?: string;
}

export interface PollStream {
  name: string;
  path: string;
  params?: Record<string, string>;
  records: RecordSelector;
  /** Dotted path(s) of the record's primary key; several are joined with "|". */
  primaryKey: string | string[];
  /** Incremental pulls; without it every poll reads the whole stream. */
  cursor?: CursorSpec;
  pagination: PaginationSpec | PaginationStyle;
  pageSize?: number;
  /** Minutes between polls; default 15. 0 disables the incremental poll (full refresh only). */
  intervalMinutes?: number;
  /** Overrides the source's cap for this endpoint (then limited on its own). */
  rateLimit?: RateLimitSpec;
  /** What every record of this stream is (default upsert; "delete" for a listing of deleted records). */
  op?: RecordOp;
  /**
   * Per-record key, version, op or stream, where data cannot say it (a deleted flag, an event type,
   * a version that must equal the webhook's). Called once per record; must not throw on odd records.
   */
  describe?: (record: RecordView) => RecordMeta;
  /**
   * The version (`describe`'s) is an id the vendor never gives to other content, such as an
   * immutable event's id: kept as it is, so the record's `_dock.id` equals its webhook's. Otherwise
   * (a timestamp, a cursor value) the engine adds a digest of the record's bytes (record-version.ts).
   */
  uniqueVersion?: boolean;
  /** Refresh the whole stream nightly into a snapshot with a manifest. */
  fullRefresh?: boolean;
  /**
   * Code instead of pages: a stream whose work is a sequence of steps (report jobs started and
   * polled across invocations, several accounts or windows, binary exports). When set, `path`,
   * `records`, `pagination` and `cursor` are not used by the runner; see stepped-run.ts.
   */
  steps?: StreamSteps;
}

/** One record a step hands over: JSON text spliced as is, or text kept raw with the reason it is not JSON. */
export type StepRecord = {
  key: string;
  /** The vendor's version (a modified time); the engine adds a digest of the payload (record-version.ts), or uses the digest alone. */
  version?: string;
  op?: "upsert" | "delete" | "event" | "snapshot";
} & ({ json: string } | { raw: string; error: string });

/** What the runner gives a step: the HTTP client of the engine and a way to put records on INGEST. */
export interface StepContext {
  env: Record<string, unknown>;
  runId: string;
  pattern: "poll" | "full_refresh";
  now(): number;
  /** The stream's stored cursor when the run started (null on the first run). */
  cursorFrom: string | null;
  /** The request with retries, auth, rate slots and throttle hooks; the body read as text. */
  fetch(req: PageRequest): Promise<{ status: number; headers: Headers; text: string }>;
  /** The same, with the body left unread for streaming (large exports). */
  open(req: PageRequest): Promise<{ status: number; headers: Headers; response: Response }>;
  /** Puts records on INGEST (poll bundles, or snapshot parts in a full refresh); resolves once accepted. */
  emit(records: StepRecord[]): Promise<void>;
  /** A structured log line with the run's fields. */
  log(level: "info" | "warn" | "error", event: string, fields?: Record<string, unknown>): void;
}

/**
 * What a step decided. The state is JSON kept in D1 (runs.state) after every step, so the next
 * step may run in another invocation; `cursor` (when given) is stored at that checkpoint. The
 * cursor is the step's own text (a position, or a JSON map of positions): it must never be earlier
 * than `cursorFrom`, and it may only cover records already emitted.
 */
export type StepResult =
  /** Take another step now (or in a continuation when the invocation's budget is spent). */
  | { next: "step"; state: unknown; cursor?: string }
  /** Nothing to do until later (a vendor job still running): a delayed continuation, no sleeping Worker. */
  | { next: "later"; state: unknown; delayMs: number; cursor?: string }
  /** The run is complete; `note` is kept on the run (e.g. records kept raw). */
  | { next: "done"; cursor?: string; note?: string }
  /** The run failed with this error (the cursor stays at its last checkpoint). */
  | { next: "fail"; error: string };

export interface StreamSteps {
  /** One unit of work from the state the previous step left (undefined at a run's start). */
  step(ctx: StepContext, state: unknown): Promise<StepResult>;
  /**
   * The stored cursor from which the next run reads again everything since `at` (an operator's
   * backfill). Without it a backfill from a time is refused; forgetting the cursor (the next run
   * starts as a first run) is always possible.
   */
  cursorAt?(at: Date): string;
  /**
   * A run with a cursor emits records in ascending order of their version's time from the cursor
   * (a query ordered by modification time): a reconciliation reading it as a listing stops at the
   * first record newer than its window. Without it the listing is read to its end.
   */
  ascending?: boolean;
}

/** What a request needs to prove who we are. `secrets` are redacted from every error and log. */
export interface Credentials {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  secrets: string[];
}

export interface PollAuth {
  /** `fresh`: the cached token was refused (401); fetch a new one. */
  credentials(env: Record<string, unknown>, opts: { fresh: boolean }): Promise<Credentials>;
  /** Whether a 401 is worth one more try with fresh credentials (tokens that expire). */
  refreshable: boolean;
  /** The variables these credentials need that `env` lacks (checked before a run or a run-now starts). */
  missing?(env: Record<string, unknown>): string[];
}

/**
 * A vendor's "quota spent" answer (a daily cap, not a burst limit): retrying within the run cannot
 * help, so the run ends as `paused` (neither failed nor succeeded) with the cursor at its last
 * checkpoint, and the stream is due again after `resumeAfterMinutes` (default: its interval).
 */
export interface QuotaSpec {
  status: number;
  /** Text the answer's body holds (an error code). */
  bodyIncludes: string;
  resumeAfterMinutes?: number;
}

/** The polling half of a source definition. */
export interface PollSource {
  name: string;
  baseUrl?: string | ((env: Record<string, unknown>) => string);
  auth?: PollAuth;
  /** The published cap; a function of env where it depends on the credentials (test vs live keys). */
  rateLimit?: RateLimitSpec | ((env: Record<string, unknown>) => RateLimitSpec);
  quota?: QuotaSpec;
  streams?: PollStream[];
  throttle?: ThrottleHooks;
}
