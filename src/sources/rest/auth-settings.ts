import type { PollAuth } from "../../pollers/types";
import type { RestAuth, SecretRef } from "./auth";

/** The env vars a declarative auth reads its secrets from. */
function secretRefs(auth: RestAuth): SecretRef[] {
  switch (auth.type) {
    case "bearer":
      return [auth.token];
    case "basic":
      return typeof auth.username === "string" ? [auth.password] : [auth.username, auth.password];
    case "api_key":
      return [auth.key];
    case "oauth2_client_credentials":
      return [auth.clientId, auth.clientSecret];
    case "oauth2_refresh_token":
      return [auth.clientId, ...(auth.clientSecret ? [auth.clientSecret] : []), auth.refreshToken];
  }
}

/** The poll auth of a declarative one, able to name its unset variables before a run or a run-now starts. */
export function withMissingCheck(auth: RestAuth, poll: PollAuth): PollAuth {
  const names = secretRefs(auth).map((ref) => ref.env);
  return { ...poll, missing: (env) => names.filter((name) => typeof env[name] !== "string" || env[name] === "") };
}
