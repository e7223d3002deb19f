import type { PollAuth } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { AuthError, restAuth } from "../rest/auth";

/**
 * The Admin API version every request names (`/admin/api/{version}/…`). Pinned in code: a new
 * version can change the shape of what lands, so moving it is a reviewed change, not a setting.
 */
export const SHOPIFY_API_VERSION = "2025-01";

/** An Admin API access token (custom app, or an app installed on the shop): `X-Shopify-Access-Token`. */
export const shopifyAuth: PollAuth = restAuth({
  type: "api_key",
  in: "header",
  name: "X-Shopify-Access-Token",
  key: { env: "SHOPIFY_ADMIN_TOKEN" },
});

/**
 * `https://{SHOPIFY_SHOP}.myshopify.com`, SHOPIFY_SHOP being the shop's myshopify handle (`acme`
 * or `acme.myshopify.com`); SHOPIFY_API_BASE overrides it (the engine's `<SOURCE>_API_BASE`).
 * Polling is off until SHOPIFY_ADMIN_TOKEN is set.
 */
export const shopifyBaseUrl = whenConfigured(["SHOPIFY_ADMIN_TOKEN"], (env) => {
  const override = envOr(env, "SHOPIFY_API_BASE", "");
  if (override) return override;
  const shop = envOr(env, "SHOPIFY_SHOP", "").replace(/\.myshopify\.com$/i, "");
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(shop))
    throw new AuthError("set SHOPIFY_SHOP to the shop's myshopify handle (acme for acme.myshopify.com), or SHOPIFY_API_BASE");
  return `https://${shop}.myshopify.com`;
});
