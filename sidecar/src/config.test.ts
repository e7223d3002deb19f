import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
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

  it("given no CDC_STATE_FILE, when loaded, then the state file is cdc-<source>-<slot>.json in DOCK_STATE_DIR, else systemd's STATE_DIRECTORY, else ./.dock-state", () => {
    expect(loadConfig({ ...base, DOCK_STATE_DIR: "/var/lib/dock", CDC_SLOT: "s1" })).toMatchObject({
      DOCK_STATE_DIR: "/var/lib/dock",
      CDC_STATE_FILE: "/var/lib/dock/cdc-app_db-s1.json",
    });
    expect(loadConfig({ ...base, STATE_DIRECTORY: "/var/lib/loading-dock" }).CDC_STATE_FILE).toBe(
      "/var/lib/loading-dock/cdc-app_db-loading_dock.json",
    );
    expect(loadConfig(base).CDC_STATE_FILE).toBe(path.resolve(".dock-state", "cdc-app_db-loading_dock.json"));
    expect(loadConfig({ ...base, DOCK_STATE_DIR: "/var/lib/dock", CDC_STATE_FILE: "/srv/state.json" }).CDC_STATE_FILE).toBe(
      "/srv/state.json",
    );
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

  it("given CDC_CONFIG_FILE, when loaded, then its values apply and the environment wins; a broken file is a clear error", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "dock-cfg-")), "cdc.json");
    writeFileSync(file, JSON.stringify({ ...base, CDC_SLOT: "from_file", CDC_MAX_IN_FLIGHT: 2 }));
    expect(loadConfig({ CDC_CONFIG_FILE: file })).toMatchObject({ CDC_SLOT: "from_file", CDC_MAX_IN_FLIGHT: 2 });
    expect(loadConfig({ CDC_CONFIG_FILE: file, CDC_SLOT: "from_env" }).CDC_SLOT).toBe("from_env");
    writeFileSync(file, "{not json");
    expect(() => loadConfig({ CDC_CONFIG_FILE: file })).toThrow(/CDC_CONFIG_FILE/);
  });

  it("given a bad setting, when the entry point starts, then it exits 2 with one JSON log line naming it, without the secret", () => {
    const secret = "whsec_c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==";
    const run = spawnSync(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "main.ts")], {
      env: { PATH: process.env.PATH ?? "", WORKER_URL: "not a url", CDC_INGEST_SECRET: secret },
      encoding: "utf8",
      cwd: path.join(import.meta.dirname, "../.."),
    });
    expect(run.status).toBe(2);
    const line = JSON.parse(run.stdout.trim().split("\n")[0] ?? "{}");
    expect(line).toMatchObject({ level: "error", event: "cdc.config_invalid", pattern: "cdc" });
    expect(line.error).toContain("WORKER_URL");
    expect(run.stdout + run.stderr).not.toContain("c2VjcmV0");
  });
});
