import type { HandshakeRequest } from "../../webhooks/types";
import { tokenEquals } from "../webhook-helpers";

export const VERIFY_TOKEN = "META_VERIFY_TOKEN";

/**
 * The subscription check: `GET ?hub.mode=subscribe&hub.challenge=<n>&hub.verify_token=<token>`.
 * When the token equals META_VERIFY_TOKEN (compared in constant time) the challenge is echoed as
 * plain text; anything else is 403. The challenge is echoed only when it looks like one (Meta
 * sends digits), so the endpoint cannot be used to reflect arbitrary content.
 */
export async function metaHandshake(req: HandshakeRequest): Promise<Response> {
  const expected = req.config[VERIFY_TOKEN];
  const q = req.url.searchParams;
  const token = q.get("hub.verify_token") ?? "";
  const challenge = q.get("hub.challenge") ?? "";
  const tokenOk = expected !== undefined && (await tokenEquals(token, expected));
  const ok = tokenOk && q.get("hub.mode") === "subscribe" && /^[A-Za-z0-9_-]{1,128}$/.test(challenge);
  if (!ok) return new Response(JSON.stringify({ error: "forbidden" }), { status: 403, headers: { "content-type": "application/json" } });
  return new Response(challenge, { status: 200, headers: { "content-type": "text/plain; charset=utf-8" } });
}
