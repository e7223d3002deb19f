import type { Op, Payload } from "../envelope/envelope";
import type { Span } from "../envelope/json-spans";
import type { HashName } from "../lib/crypto";

/** A webhook request as the verifiers see it: the raw bytes, never a re-serialised body. */
export interface WebhookRequest {
  method: string;
  /** The public URL the vendor called (some schemes sign it). */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

export interface VerifyContext {
  nowSeconds: number;
  toleranceSeconds: number;
  /** The values of the variables the spec names in `config` (never the secrets themselves). */
  config?: Readonly<Record<string, string | undefined>>;
}

/** The parts of a signature header: candidate signatures and, where the scheme signs one, a timestamp. */
export interface ParsedSignature {
  signatures: string[];
  /** Unix seconds, when the scheme signs a timestamp. */
  timestamp?: number;
  [part: string]: unknown;
}

/**
 * An HMAC scheme as data plus three small functions: where the signatures are, what is signed,
 * and how the configured secret becomes the key. The machinery does the rest once for all:
 * timestamp tolerance, constant-time comparison, rotation between two secrets.
 */
export interface HmacScheme<P extends ParsedSignature = ParsedSignature> {
  kind: "hmac";
  hash: HashName;
  encoding: "hex" | "base64";
  parse(req: WebhookRequest): P | null;
  message(req: WebhookRequest, parsed: P): Uint8Array | string;
  /** The key bytes for a configured secret; null when the secret is unusable. Default: its UTF-8 bytes. */
  key?(secret: string): Uint8Array | string | null;
}

/** For senders that do not sign with an HMAC: a shared secret in a header, an org id, a key pair. */
export interface CustomScheme {
  kind: "custom";
  verify(req: WebhookRequest, secret: string, ctx: VerifyContext): Promise<boolean> | boolean;
}

export type SignatureScheme = HmacScheme<any> | CustomScheme;

/** One record found in a verified webhook body. */
export interface WebhookRecord {
  stream: string;
  /** The record's own id at the vendor (object id), for `_dock.key`. */
  key: string;
  /** What makes this version distinct (event id, timestamp), for `_dock.version`. */
  version: string;
  op: Op;
  /** The vendor's event id: the dedupe key and the receipt that reconciliation looks for. */
  eventId: string;
  /** Where this record's JSON sits in the body; the whole body when absent. */
  span?: Span;
  /** What to keep instead of a span of the body (a part of a non-JSON body, kept as a string). */
  payload?: Payload;
}

export interface WebhookInput {
  text: string;
  /** The parsed body; undefined when the body is not JSON (only reached with `body: "text"`). */
  json: unknown;
  headers: Headers;
  /** The public URL the vendor called. */
  url: string;
}

/** A GET on the webhook URL (a subscription handshake), with the spec's config values. */
export interface HandshakeRequest {
  url: URL;
  headers: Headers;
  config: Readonly<Record<string, string | undefined>>;
}

export interface WebhookSpec {
  scheme: SignatureScheme;
  /** How far a signed timestamp may be from now; default 300 s. */
  toleranceSeconds?: number;
  /** Largest accepted body; default the Worker's WEBHOOK_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Names of the Worker variables the scheme, handshake or records read (an org id, a header name). */
  config?: readonly string[];
  /** "json" (default): records() sees JSON bodies only. "text": any UTF-8 body (XML, form posts). */
  body?: "json" | "text";
  /** The records a verified body holds. May throw on an unexpected shape: the body is then kept raw. */
  records(input: WebhookInput): WebhookRecord[] | Promise<WebhookRecord[]>;
  /** Answers a GET on the webhook URL (a vendor's subscription check); without it, GET is 404. */
  handshake?(req: HandshakeRequest): Response | Promise<Response>;
  /** The 2xx answer once every record is queued, when the vendor expects more than `{ok:true}`. */
  respond?(result: { records: number }): Response;
}
