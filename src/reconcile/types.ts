import type { HttpResult } from "../pollers/http";
import type { PageRequest, PollAuth, PollStream, RateLimitSpec } from "../pollers/types";
import type { TrackedObjects } from "./objects";
import type { WebhookRecord } from "../webhooks/types";

/**
 * The reconciliation half of a source definition: either how to list what the vendor says
 * happened, or the honest statement that it cannot be listed (the ledger then says
 * "not reconcilable", never complete). Nothing here names a vendor; sources fill it in.
 */
export type ReconcileSpec = ReconcileListing | RecordListing | { unsupported: string };

/** A closed time range, ISO-8601 UTC, that the vendor is asked about. */
export interface ReconcileWindow {
  from: string;
  to: string;
}

/** When and how a listing is asked: shared by event-level and record-level listings. */
export interface ListingTiming {
  /** How long the vendor keeps what its listing returns; windows reaching further back are refused. */
  historyDays: number;
  /** How long after an event its webhook may still be on its way (retries in flight): not asked about yet. */
  settleSeconds: number;
  /** How far before the last reconciled end the next window starts (vendors' indexes lag). */
  overlapSeconds: number;
  /** The vendor's API root (default: the source's `baseUrl`). */
  baseUrl?: string | ((env: Record<string, unknown>) => string);
  /** How listing requests authenticate (default: the source's `auth`). */
  auth?: PollAuth;
  /** The vendor's published cap (default: the source's; the slots are shared with its pollers). */
  rateLimit?: RateLimitSpec;
  /** Names of the Worker variables the listing reads (a repo, a hook id): checked before a run starts. */
  config?: readonly string[];
}

/** Event level: the vendor lists the events its webhooks delivered, by the webhook's own event id. */
export interface ReconcileListing extends ListingTiming {
  /**
   * One page of what the vendor says happened in `window`, from `page` (null for the first page).
   * A malformed page throws: the run fails with the page's position and the window stays unreconciled.
   */
  list(window: ReconcileWindow, page: string | null, ctx: ListContext): Promise<ListedPage>;
}

export interface ListedPage {
  events: ListedEvent[];
  /** Where the next page starts (serialisable: it is kept in the run's state); null when done. */
  next: string | null;
}

/** One event as the vendor lists it, identified exactly as the webhook path identifies it. */
export interface ListedEvent {
  /** Equal to the `eventId` the webhook path gives the same event (the receipt's key). */
  eventId: string;
  /** The vendor's time of the event (ISO-8601 UTC): the ledger's day. */
  occurredAt: string;
  /**
   * The record the webhook would have produced, with its JSON in `text` (a span of it, or all of it).
   * `load` fetches it lazily, only for events found missing (one more request per event); null when
   * the vendor no longer gives the payload (the event is then counted as missing).
   */
  recovered?: Recovered;
  load?: () => Promise<Recovered | null>;
}

export interface Recovered {
  record: WebhookRecord;
  text: string;
}

/** What a listing may use: GET through the poll engine's client (rate slots, retries, Retry-After). */
export interface ListContext {
  get(request: PageRequest): Promise<HttpResult>;
  env: Record<string, unknown>;
  /** The values of the variables named in `config`. */
  config: Readonly<Record<string, string>>;
}

/**
 * Record level: the vendor lists the *objects* changed in a window. For each listed object the
 * raw zone must hold that object (same source, stream, key) at the listed version or a newer one,
 * by any pattern; one that is not held is sent to INGEST as `reconcile`, built by the poll engine
 * from the listing exactly as a poll of that version would be (same key, version, `_dock.id`).
 * A source adds it with data only: the poll streams that list, and how its versions are timed.
 */
export interface RecordListing extends ListingTiming {
  /**
   * The poll stream definitions that list objects (the source's own, so identity cannot diverge).
   * A stream with an ascending `updated_at` cursor is asked from the window's start and read until
   * a record is newer than its end; any other stream is read in full and its records kept when
   * their version's time falls in the window (archives without a time filter).
   */
  listings: readonly PollStream[];
  /** The object streams the listed records are filed under, and how a version's time is read. */
  objects: TrackedObjects;
  /**
   * What the source's webhooks bring that no listing covers (their records land outside
   * `objects.streams`), in words for the status page. When set, those webhooks get the volume
   * guard of sources nobody can list: their records per day (raw_objects, unlisted-volume.ts),
   * flagged when a day falls well below their own recent median.
   */
  unlistedWebhooks?: string;
}

export type Listing = ReconcileListing | RecordListing;

export function isListing(spec: ReconcileSpec | undefined): spec is ReconcileListing {
  return spec !== undefined && "list" in spec;
}

export function isRecordListing(spec: ReconcileSpec | undefined): spec is RecordListing {
  return spec !== undefined && "listings" in spec;
}

/** Either kind of listing: the source can be reconciled. */
export function isReconcilable(spec: ReconcileSpec | undefined): spec is Listing {
  return isListing(spec) || isRecordListing(spec);
}
