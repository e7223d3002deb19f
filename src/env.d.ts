// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they are declared here.
// Source webhook secrets (<SOURCE>_WEBHOOK_SECRET[_PREVIOUS]) are read by name at run time.
interface Env {
  ADMIN_TOKEN?: string;
  CDC_INGEST_SECRET?: string;
  CDC_INGEST_SECRET_PREVIOUS?: string;
  PUBLIC_BASE_URL?: string;
  /** Operations alerts: a Slack-compatible incoming webhook, and the whsec_ secret that signs each post. */
  ALERT_WEBHOOK_URL?: string;
  ALERT_SIGNING_SECRET?: string;
}
