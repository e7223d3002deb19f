import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configFromEnv } from "./main";

describe("SFTP poller settings from the environment", () => {
  const dir = mkdtempSync(join(tmpdir(), "dock-sftp-cfg-"));
  writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nfixture\n-----END OPENSSH PRIVATE KEY-----\n");
  const full = {
    SFTP_HOST: "sftp.partner.example",
    SFTP_USERNAME: "dock",
    SFTP_PRIVATE_KEY_PATH: join(dir, "id_ed25519"),
    SFTP_PRIVATE_KEY_PASSPHRASE: "key-pass",
    SFTP_HOST_KEY: "SHA256:2Q7o0b5ZbJ3M2m0mEo4l1k6yF3nqQm1bJc8Yk2rXw9A",
    SFTP_REMOTE_DIR: "/outbound",
    SFTP_ARCHIVE_DIR: "/outbound/done",
    DOCK_URL: "https://dock.example.com",
    SFTP_SOURCE: "partner",
    SFTP_FILES_TOKEN: "files-token",
  };

  it("given every setting, then the poller config carries them with the documented defaults", () => {
    const config = configFromEnv(full);
    expect(config).toMatchObject({
      target: { host: "sftp.partner.example", port: 22, username: "dock", passphrase: "key-pass", hostKey: full.SFTP_HOST_KEY },
      remoteDir: "/outbound",
      archiveDir: "/outbound/done",
      drop: { baseUrl: "https://dock.example.com", source: "partner", token: "files-token" },
      pollSeconds: 300,
    });
    expect(config.target.privateKey.toString()).toContain("OPENSSH PRIVATE KEY");
  });

  it("given no ledger or staging setting, then both are under sftp-<source>/ in the state directory (DOCK_STATE_DIR, else systemd's STATE_DIRECTORY)", () => {
    expect(configFromEnv({ ...full, DOCK_STATE_DIR: "/var/lib/dock" })).toMatchObject({
      ledgerPath: "/var/lib/dock/sftp-partner/ledger.jsonl",
      stagingDir: "/var/lib/dock/sftp-partner/staging",
    });
    expect(configFromEnv({ ...full, STATE_DIRECTORY: "/var/lib/loading-dock" }).ledgerPath).toBe(
      "/var/lib/loading-dock/sftp-partner/ledger.jsonl",
    );
    expect(configFromEnv({ ...full, SFTP_LEDGER_PATH: "/srv/l.jsonl", SFTP_STAGING_DIR: "/srv/s" })).toMatchObject({
      ledgerPath: "/srv/l.jsonl",
      stagingDir: "/srv/s",
    });
  });

  it("given a missing required setting, then it fails naming it (the host key pin included)", () => {
    for (const name of ["SFTP_HOST", "SFTP_HOST_KEY", "SFTP_FILES_TOKEN", "DOCK_URL", "SFTP_REMOTE_DIR"]) {
      const env: Record<string, string | undefined> = { ...full, [name]: undefined };
      expect(() => configFromEnv(env), name).toThrow(`${name} is required`);
    }
  });
});
