import { describe, expect, it } from "vitest";
import { demo } from "../../src/sources/demo";
import { defineRestSource } from "../../src/sources/rest/define-rest-source";
import type { RestSourceConfig } from "../../src/sources/rest/config";

const valid: RestSourceConfig = {
  name: "internal_api",
  title: "Internal API",
  baseUrl: "https://internal.example.test/api",
  auth: { type: "bearer", token: { env: "INTERNAL_API_TOKEN" } },
  rateLimit: { requests: 100, perSeconds: 60 },
  streams: [
    {
      name: "accounts",
      path: "/accounts",
      records: "data",
      primaryKey: "id",
      cursor: { kind: "updated_at", field: "updated_at", param: "since" },
      pagination: { style: "page", totalPagesPath: "meta.pages" },
    },
  ],
};

function errorOf(config: unknown): string {
  try {
    defineRestSource(config as RestSourceConfig);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the definition to be refused");
}

describe("declarative REST sources", () => {
  it("given a valid definition, then it becomes a source with its streams, cap and auth", () => {
    const source = defineRestSource(valid);
    expect(source.streams?.map((s) => s.name)).toEqual(["accounts"]);
    expect(source.rateLimit).toEqual({ requests: 100, perSeconds: 60 });
    expect(source.auth?.refreshable).toBe(false);
    expect(demo.streams?.map((s) => s.name)).toEqual(["items", "customers", "orders", "plans"]);
  });

  it("given a wrong cursor kind, then the error names the field path", () => {
    const bad = { ...valid, streams: [{ ...valid.streams[0], cursor: { kind: "timestamp", field: "updated_at", param: "since" } }] };
    expect(errorOf(bad)).toMatch(/^REST source internal_api: streams\[0\]\.cursor\.kind: /);
  });

  it("given a secret written inline instead of an env reference, then it is refused at the auth field", () => {
    const bad = { ...valid, auth: { type: "bearer", token: "sk_live_inline" } };
    const message = errorOf(bad);
    expect(message).toMatch(/auth\.token/);
    expect(message).not.toContain("sk_live_inline");
  });

  it("given an unknown pagination style, a missing primary key and a typo'd field, then each is named", () => {
    const bad = {
      ...valid,
      streams: [{ name: "x", path: "/x", records: "data", pagination: { style: "infinite_scroll" }, pageSzie: 10 }],
    };
    const message = errorOf(bad);
    expect(message).toMatch(/streams\[0\]\.pagination\.style/);
    expect(message).toMatch(/streams\[0\]\.primaryKey/);
    expect(message).toMatch(/pageSzie/);
  });

  it("given a base URL that is not http(s), then baseUrl is named", () => {
    expect(errorOf({ ...valid, baseUrl: "ftp://example.test" })).toMatch(/baseUrl/);
  });

  it("given a base URL from an env var, then it is read at run time and an unset var is a clear error", () => {
    const source = defineRestSource({ ...valid, baseUrl: { env: "INTERNAL_API_URL" } });
    const baseUrl = source.baseUrl as (env: Record<string, unknown>) => string;
    expect(baseUrl({ INTERNAL_API_URL: "http://127.0.0.1:9999" })).toBe("http://127.0.0.1:9999");
    expect(() => baseUrl({})).toThrow(/INTERNAL_API_URL/);
  });
});
