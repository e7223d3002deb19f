import { PollFailure } from "../pollers/http";
import type { PollAuth } from "../pollers/types";

/** `Authorization: Bearer <the value of env[name]>`; a missing secret fails the run, and is never logged. */
export function bearerFromEnv(name: string, extraHeaders: Record<string, string> = {}): PollAuth {
  return {
    refreshable: false,
    async credentials(env) {
      const token = env[name];
      if (typeof token !== "string" || token === "") throw new PollFailure(`${name} is not set: the listing needs an API token`);
      return { headers: { authorization: `Bearer ${token}`, ...extraHeaders }, secrets: [token] };
    },
  };
}
