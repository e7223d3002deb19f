/**
 * What `dock deploy` provisions and `dock destroy` removes, declared once. wrangler.toml names the
 * resources (database, bucket and queue names); this file says which ones the deploy knows how to
 * create. checkPlan() compares the plan built from it with the config and the code's secrets: a
 * binding, queue, DLQ, cron or secret that is in wrangler.toml or src/env.d.ts but not here stops
 * the deploy before it calls anything, and fails cli/deploy.test.ts.
 */
export const MANIFEST = {
  /** D1 bindings: created with `wrangler d1 create`, their id written into the generated config. */
  d1: { DB: "the ledger: dedupe keys, cursors, runs, schedules, file ledger, dead letters" },
  /** R2 bindings: created with `wrangler r2 bucket create`. */
  r2: { RAW: "the raw zone (and files/, drop/)" },
  /** Queues and their dead-letter queues, with the producer binding that sends to each (if any). */
  queues: {
    "loading-dock-ingest": { producer: "INGEST", dlq: "loading-dock-ingest-dlq", why: "envelopes to the raw writer" },
    "loading-dock-jobs": { producer: "JOBS", dlq: "loading-dock-jobs-dlq", why: "poll, refresh, reconcile and file-parse jobs" },
    "loading-dock-files": { producer: null, dlq: "loading-dock-files-dlq", why: "R2 event notifications of partner drops" },
  },
  /** R2 event notifications: objects written under the prefix put a message on the queue. */
  notifications: [
    {
      bucket: "RAW",
      queue: "loading-dock-files",
      eventTypes: ["object-create"],
      prefixVar: "FILES_DROP_PREFIX",
      defaultPrefix: "drop/",
      why: "partner drops over the S3 API (docs/files.md)",
    },
  ],
  /** Durable Object bindings and the migrations that declare their classes; `wrangler deploy` applies them. */
  durableObjects: {
    RATE_LIMITER: { className: "RateLimiter", why: "one request-slot gate per rate-limited source" },
    LEDGER: { className: "LedgerShard", why: "the per-record ledger, one object per shard (dedupe keys, receipts, marks)" },
  },
  migrations: ["v1-rate-limiter", "v2-ledger-shards"],
  /** Cron triggers; `wrangler deploy` attaches them. */
  crons: {
    "*/5 * * * *": "the scheduler tick",
    "17 3 * * *": "the nightly work: full refreshes, reconciliation, pruning (NIGHTLY_CRON)",
  },
  secrets: {
    /** Ours: generated when not set on the Worker (and not given), saved to the secrets file. */
    generated: {
      ADMIN_TOKEN: { format: "token", why: "the admin API, `dock` and the status page (Bearer)" },
      CDC_INGEST_SECRET: { format: "whsec", why: "signs the sidecars' deliveries to /ingest/cdc" },
      ALERT_SIGNING_SECRET: { format: "whsec", why: "signs each alert post (Standard Webhooks headers)" },
    },
    /** Ours per file-drop source: `<SOURCE>_FILES_TOKEN`, generated for each source named by --file-drops. */
    filesToken: { suffix: "_FILES_TOKEN", format: "token", why: "PUT /files/<source>/<name> (Bearer or signed URL)" },
    /** Set when given (env or the secrets file); nothing breaks without them. */
    optional: {
      ALERT_WEBHOOK_URL: "where alerts are posted (a Slack-compatible incoming webhook); no alerts without it",
      PUBLIC_BASE_URL: "the public URL vendors call, when it is not the URL the Worker sees (HubSpot signs it)",
    },
    /** Read by the code, deliberately not set by the deploy. */
    notDeployed: {
      CDC_INGEST_SECRET_PREVIOUS: "only during a rotation of CDC_INGEST_SECRET, set by hand (sidecar/README.md)",
    },
  },
};

/** Top-level wrangler.toml keys that carry no resource the deploy must create, or that it handles above. */
export const CONFIG_KEYS_WITHOUT_RESOURCES = new Set([
  "$schema",
  "name",
  "main",
  "compatibility_date",
  "compatibility_flags",
  "observability",
  "vars",
  "workers_dev",
  "preview_urls",
  "placement",
  "limits",
  "minify",
  "keep_vars",
  "logpush",
  "upload_source_maps",
  "account_id",
  "rules",
  "build",
  "tsconfig",
  "define",
  "alias",
  "send_metrics",
  "dev",
]);
export const CONFIG_KEYS_WITH_RESOURCES = new Set(["d1_databases", "r2_buckets", "queues", "durable_objects", "migrations", "triggers"]);
