import * as z from "zod";

/** The declarative REST source, as data. Every secret is a reference to an env var, never a value. */
const secretRef = z.object({ env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "must be an env var name in UPPER_SNAKE_CASE") }).strict();
const url = z.url({ protocol: /^https?$/ });
const dotted = z.string().regex(/^$|^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, "must be a dotted path like data.items");
const param = z.string().min(1).max(100);
const rate = z.object({ requests: z.number().positive(), perSeconds: z.number().positive() }).strict();

/** A token endpoint: fixed, or an env var that overrides a default. */
const tokenUrl = z.union([url, z.object({ env: secretRef.shape.env, default: url }).strict()]);

const auth = z.discriminatedUnion("type", [
  z.object({ type: z.literal("bearer"), token: secretRef }).strict(),
  z.object({ type: z.literal("basic"), username: z.union([z.string().min(1), secretRef]), password: secretRef }).strict(),
  z.object({ type: z.literal("api_key"), in: z.enum(["header", "query"]), name: param, key: secretRef }).strict(),
  z
    .object({
      type: z.literal("oauth2_client_credentials"),
      tokenUrl,
      clientId: secretRef,
      clientSecret: secretRef,
      scope: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("oauth2_refresh_token"),
      tokenUrl,
      clientId: secretRef,
      clientSecret: secretRef.optional(),
      refreshToken: secretRef,
    })
    .strict(),
]);

const pagination = z.discriminatedUnion("style", [
  z.object({ style: z.literal("none") }).strict(),
  z.object({ style: z.literal("next_link"), path: dotted, limitParam: param.optional() }).strict(),
  z.object({ style: z.literal("link_header"), limitParam: param.optional() }).strict(),
  z.object({ style: z.literal("cursor"), path: dotted, param, hasMorePath: dotted.optional(), limitParam: param.optional() }).strict(),
  z
    .object({
      style: z.literal("after_id"),
      param,
      hasMorePath: dotted.optional(),
      direction: z.enum(["after", "before"]).optional(),
      limitParam: param.optional(),
    })
    .strict(),
  z
    .object({ style: z.literal("offset"), offsetParam: param.optional(), limitParam: param.optional(), totalPath: dotted.optional() })
    .strict(),
  z
    .object({
      style: z.literal("page"),
      param: param.optional(),
      sizeParam: param.optional(),
      firstPage: z.number().int().nonnegative().optional(),
      totalPagesPath: dotted.optional(),
      hasMorePath: dotted.optional(),
    })
    .strict(),
]);

const cursor = z
  .object({
    kind: z.enum(["updated_at", "token", "id"]),
    field: dotted.min(1),
    param,
    lookbackSeconds: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 86_400)
      .optional(),
    format: z.enum(["iso", "unix", "unix_ms"]).optional(),
    ascending: z.boolean().optional(),
    keyset: z.boolean().optional(),
  })
  .strict();

const stream = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be letters, digits, _ . -"),
    path: z.string().min(1).max(500),
    params: z.record(z.string(), z.string()).optional(),
    records: dotted,
    primaryKey: z.union([dotted.min(1), z.array(dotted.min(1)).min(1)]),
    cursor: cursor.optional(),
    pagination,
    pageSize: z.number().int().positive().max(10_000).optional(),
    intervalMinutes: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 60)
      .optional(),
    rateLimit: rate.optional(),
    fullRefresh: z.boolean().optional(),
  })
  .strict();

export const restSourceConfig = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be lowercase letters, digits and _"),
    title: z.string().min(1),
    /** A fixed URL, or the env var that holds it (a local vendor in dev), with an optional default. */
    baseUrl: z.union([url, z.object({ env: secretRef.shape.env, default: url.optional() }).strict()]),
    auth: auth.optional(),
    rateLimit: rate.optional(),
    streams: z.array(stream).min(1),
  })
  .strict();

export type RestSourceConfig = z.input<typeof restSourceConfig>;

/** zod's issues as one message that names each field: `streams[0].cursor.kind: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
        .join("")
        .replace(/^\./, "");
      return `${path || "(root)"}: ${issue.message}`;
    })
    .join("; ");
}
