import { PollFailure } from "../../pollers/http";
import type { Credentials, PollAuth } from "../../pollers/types";
import { clearRefreshTokenMemory, currentRefreshToken, storeRefreshToken } from "./refresh-tokens";

/** A secret is never written in a source definition: it names the env var (Worker secret) that holds it. */
export interface SecretRef {
  env: string;
}

export type RestAuth =
  | { type: "bearer"; token: SecretRef }
  | { type: "basic"; username: SecretRef | string; password: SecretRef }
  | { type: "api_key"; in: "header" | "query"; name: string; key: SecretRef }
  | { type: "oauth2_client_credentials"; tokenUrl: TokenUrl; clientId: SecretRef; clientSecret: SecretRef; scope?: string }
  | { type: "oauth2_refresh_token"; tokenUrl: TokenUrl; clientId: SecretRef; clientSecret?: SecretRef; refreshToken: SecretRef };

/** A token endpoint: fixed, or the env var that overrides a default (a staging login server, a local fake). */
export type TokenUrl = string | { env: string; default: string };

export function tokenUrlOf(env: Record<string, unknown>, url: TokenUrl): string {
  if (typeof url === "string") return url;
  const value = env[url.env];
  return typeof value === "string" && value !== "" ? value : url.default;
}

/** Fails the run (it is not retried): a missing secret or a refused token does not fix itself. */
export class AuthError extends PollFailure {}

function secret(env: Record<string, unknown>, ref: SecretRef | string): string {
  if (typeof ref === "string") return ref;
  const value = env[ref.env];
  if (typeof value !== "string" || value === "") throw new AuthError(`an env var the source needs for auth is not set (${ref.env})`);
  return value;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Access tokens per isolate, keyed by token URL and client: one token exchange serves many pages and runs. */
const tokenCache = new Map<string, CachedToken>();

/** Forgets every access token and remembered refresh token of this isolate (as a new isolate starts). */
export function clearTokenCache(): void {
  tokenCache.clear();
  clearRefreshTokenMemory();
}

/** Turns a declarative auth into what the poll engine asks of it. */
export function restAuth(auth: RestAuth, now: () => number = Date.now): PollAuth {
  switch (auth.type) {
    case "bearer":
      return {
        refreshable: false,
        credentials: async (env) => {
          const token = secret(env, auth.token);
          return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
        },
      };
    case "basic":
      return {
        refreshable: false,
        credentials: async (env) => {
          const user = secret(env, auth.username);
          const password = secret(env, auth.password);
          const encoded = btoa(`${user}:${password}`);
          return { headers: { authorization: `Basic ${encoded}` }, secrets: [password, encoded] };
        },
      };
    case "api_key":
      return {
        refreshable: false,
        credentials: async (env) => {
          const key = secret(env, auth.key);
          return auth.in === "header" ? { headers: { [auth.name]: key }, secrets: [key] } : { query: { [auth.name]: key }, secrets: [key] };
        },
      };
    case "oauth2_client_credentials":
    case "oauth2_refresh_token":
      return {
        refreshable: true,
        credentials: async (env, { fresh }): Promise<Credentials> => {
          const clientId = secret(env, auth.clientId);
          const tokenUrl = tokenUrlOf(env, auth.tokenUrl);
          const cacheKey = `${tokenUrl}\n${clientId}`;
          const cached = tokenCache.get(cacheKey);
          const clientSecret = auth.clientSecret ? secret(env, auth.clientSecret) : undefined;
          const configured = auth.type === "oauth2_refresh_token" ? secret(env, auth.refreshToken) : undefined;
          const grant = configured === undefined ? undefined : { tokenUrl, clientId, clientSecret, configured };
          const known = [clientSecret, configured].filter((s): s is string => !!s);
          if (!fresh && cached && cached.expiresAt > now()) {
            return { headers: { authorization: `Bearer ${cached.token}` }, secrets: [...known, cached.token] };
          }
          const attempt = (refresh: string | undefined) => {
            const form = new URLSearchParams({ client_id: clientId });
            if (clientSecret) form.set("client_secret", clientSecret);
            if (refresh === undefined) {
              form.set("grant_type", "client_credentials");
              if (auth.type === "oauth2_client_credentials" && auth.scope) form.set("scope", auth.scope);
            } else {
              form.set("grant_type", "refresh_token");
              form.set("refresh_token", refresh);
            }
            return exchange(tokenUrl, form, refresh === undefined ? known : [...known, refresh]);
          };
          // A vendor that rotates refresh tokens accepts each once: send the newest one kept.
          let sent = grant ? await currentRefreshToken(env, grant) : undefined;
          let token: ExchangedToken;
          try {
            token = await attempt(sent);
          } catch (err) {
            // Refused: if another invocation rotated the token meanwhile, the one it kept is the one to send.
            const newer = grant && err instanceof AuthError ? await currentRefreshToken(env, grant) : undefined;
            if (newer === undefined || newer === sent) throw err;
            sent = newer;
            token = await attempt(sent);
          }
          // Stored before the access token is used: the token just sent is spent once the vendor rotated it.
          if (grant && token.refresh_token && token.refresh_token !== sent) await storeRefreshToken(env, grant, token.refresh_token);
          // Renew a minute early so a token never expires between our check and the vendor's.
          tokenCache.set(cacheKey, { token: token.access_token, expiresAt: now() + Math.max(0, (token.expires_in ?? 3600) - 60) * 1000 });
          const rotated = [sent, token.refresh_token].filter((s): s is string => !!s);
          return { headers: { authorization: `Bearer ${token.access_token}` }, secrets: [...known, ...rotated, token.access_token] };
        },
      };
  }
}

interface ExchangedToken {
  access_token: string;
  expires_in?: number;
  /** A new refresh token, from vendors that rotate them. */
  refresh_token?: string;
}

async function exchange(tokenUrl: string, form: URLSearchParams, secrets: string[]): Promise<ExchangedToken> {
  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: form.toString(),
  });
  const text = await response.text();
  const scrub = (s: string) => secrets.reduce((out, secretValue) => out.split(secretValue).join("[redacted]"), s);
  if (!response.ok) throw new AuthError(`token endpoint ${tokenUrl} answered ${response.status}: ${scrub(text.slice(0, 200))}`);
  let body: { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new AuthError(`token endpoint ${tokenUrl} answered with a body that is not JSON`);
  }
  if (typeof body.access_token !== "string") throw new AuthError(`token endpoint ${tokenUrl} sent no access_token`);
  return {
    access_token: body.access_token,
    expires_in: typeof body.expires_in === "number" ? body.expires_in : undefined,
    refresh_token: typeof body.refresh_token === "string" && body.refresh_token !== "" ? body.refresh_token : undefined,
  };
}
