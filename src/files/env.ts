import type { IngestBindings } from "../ingest/enqueue";

export interface FilesEnv extends IngestBindings {
  DB: D1Database;
  JOBS: Queue<unknown>;
  /** JSON: per source, `maxBytes` and `rules` by file name (stream, format, encoding, delimiter). */
  FILES_CONFIG?: string;
  /** Largest drop accepted when the source sets no `maxBytes` (default 5 GB, R2's single-put limit). */
  FILES_MAX_BYTES?: string;
  /** Bytes of text one parse step reads (default 8 MiB). */
  FILES_STEP_BYTES?: string;
  /** Prefix partners write to over the S3 API; R2 event notifications on it start the same landing. */
  FILES_DROP_PREFIX?: string;
}
