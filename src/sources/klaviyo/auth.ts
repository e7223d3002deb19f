import type { PollAuth } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { AuthError } from "../rest/auth";

/** A private API key (`pk_…`) as `Authorization: Klaviyo-API-Key …`, with the API revision pinned (KLAVIYO_REVISION). */
export const klaviyoAuth: PollAuth = {
  refreshable: false,
  credentials: async (env) => {
    const key = env.KLAVIYO_API_KEY;
    if (typeof key !== "string" || key === "") throw new AuthError("env var KLAVIYO_API_KEY is not set (the source needs it for auth)");
    return { headers: { authorization: `Klaviyo-API-Key ${key}`, revision: envOr(env, "KLAVIYO_REVISION", "2024-10-15") }, secrets: [key] };
  },
};

export const klaviyoBaseUrl = whenConfigured(["KLAVIYO_API_KEY"], (env) => envOr(env, "KLAVIYO_API_BASE", "https://a.klaviyo.com"));
