import { readFileSync } from "node:fs";
import { HostKeyMismatch } from "./host-key";
import { errorText, log, registerSecrets } from "./log";
import { SftpPoller, type SftpPollerConfig } from "./poller";

/** Reads the SFTP poller's settings from the environment (see docs/files.md). */
export function configFromEnv(env: NodeJS.ProcessEnv): SftpPollerConfig & { pollSeconds: number } {
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const token = need("SFTP_FILES_TOKEN");
  const passphrase = env.SFTP_PRIVATE_KEY_PASSPHRASE;
  registerSecrets([token, passphrase ?? ""]);
  return {
    target: {
      host: need("SFTP_HOST"),
      port: Number(env.SFTP_PORT ?? 22),
      username: need("SFTP_USERNAME"),
      privateKey: readFileSync(need("SFTP_PRIVATE_KEY_PATH")),
      hostKey: need("SFTP_HOST_KEY"),
      ...(passphrase ? { passphrase } : {}),
    },
    remoteDir: need("SFTP_REMOTE_DIR"),
    ...(env.SFTP_ARCHIVE_DIR ? { archiveDir: env.SFTP_ARCHIVE_DIR } : {}),
    drop: { baseUrl: need("DOCK_URL"), source: need("SFTP_SOURCE"), token },
    ledgerPath: env.SFTP_LEDGER_PATH ?? "./data/sftp-ledger.jsonl",
    stagingDir: env.SFTP_STAGING_DIR ?? "./data/sftp-staging",
    pollSeconds: Number(env.SFTP_POLL_SECONDS ?? 300),
  };
}

/** `tsx sidecar/sftp/main.ts`: poll forever; a host key mismatch stops the process (exit 2). */
async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const poller = new SftpPoller(config);
  for (;;) {
    try {
      const report = await poller.pollOnce();
      log("info", { event: "sftp.polled", source: config.drop.source, records: report.landed.length, waiting: report.waiting.length });
    } catch (err) {
      log("error", { event: "sftp.poll_failed", source: config.drop.source, error: errorText(err) });
      if (err instanceof HostKeyMismatch) process.exit(2);
    }
    await new Promise((r) => setTimeout(r, config.pollSeconds * 1000));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
