import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

const base = { WORKER_URL: "http://127.0.0.1:8787", CDC_INGEST_SECRET: "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==" };

describe("loadConfig", () => {
  it("given the two required settings, when loaded, then defaults fill the rest and numbers are numbers", () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      CDC_SOURCE: "app_db",
      CDC_SLOT: "loading_dock",
      PGPORT: 5432,
      CDC_BATCH_MAX_RECORDS: 5000,
      CDC_TABLES: [],
      CDC_SNAPSHOT: true,
    });
    expect(loadConfig({ ...base, CDC_TABLES: "public.a, b ", CDC_SNAPSHOT: "false" })).toMatchObject({
      CDC_TABLES: ["public.a", "b"],
      CDC_SNAPSHOT: false,
    });
  });

  it("given bad values, when loaded, then a ConfigError names each setting and never echoes the secret", () => {
    const secret = "whsec_!!not-base64!!";
    let err: unknown;
    try {
      loadConfig({ ...base, CDC_INGEST_SECRET: secret, CDC_SLOT: "Bad-Slot", PGPORT: "x", CDC_BATCH_MAX_BYTES: "9000000" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    for (const name of ["CDC_INGEST_SECRET", "CDC_SLOT", "PGPORT", "CDC_BATCH_MAX_BYTES"]) expect(text).toContain(name);
    expect(text).not.toContain("not-base64");
    expect(() => loadConfig({ CDC_INGEST_SECRET: base.CDC_INGEST_SECRET })).toThrow(/WORKER_URL/);
  });
});
