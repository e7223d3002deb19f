import { toBase64 } from "../lib/bytes";
import { hmac, sha256Hex } from "../lib/crypto";
import { standardWebhookKey } from "../webhooks/schemes/standard-webhooks";

export type AlertKind = "alert" | "recovery";

export interface AlertEvent {
  kind: AlertKind;
  subject: string;
  condition: string;
  /** The condition before (a change from stale to failing alerts again). */
  previous: string | null;
  detail: string;
  since: string;
  at: string;
}

const ICON: Record<string, string> = {
  stale: ":red_circle:",
  failing: ":rotating_light:",
  "zero-record": ":warning:",
  "dlq-non-empty": ":inbox_tray:",
  "gaps-found": ":jigsaw:",
  "slot-lag": ":hourglass:",
  silent: ":mute:",
};

/** Slack-compatible JSON (`text` is what Slack shows); `dock` carries the same facts for machines. */
export function alertBody(e: AlertEvent): string {
  const text =
    e.kind === "recovery"
      ? `:white_check_mark: Loading Dock: ${e.subject} recovered (was ${e.condition} since ${e.since})`
      : `${ICON[e.condition] ?? ":warning:"} Loading Dock: ${e.subject} is ${e.condition}: ${e.detail}`;
  return JSON.stringify({ text, dock: e });
}

/** Standard Webhooks headers for a body: webhook-id, webhook-timestamp and a v1 HMAC-SHA256 signature. */
export async function signedHeaders(secret: string, id: string, body: string, nowSeconds: number): Promise<Record<string, string>> {
  const key = standardWebhookKey(secret);
  if (!key) throw new Error("ALERT_SIGNING_SECRET must be whsec_ followed by base64");
  const ts = String(nowSeconds);
  const signature = toBase64(await hmac("SHA-256", key, `${id}.${ts}.${body}`));
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${signature}` };
}

/** The same alert (subject, condition, since, kind) always gets the same id, so receivers can dedupe a retry. */
export async function alertId(e: AlertEvent): Promise<string> {
  return `msg_${(await sha256Hex(`${e.kind}\n${e.subject}\n${e.condition}\n${e.since}`)).slice(0, 24)}`;
}
