import { readFileSync } from "node:fs";
import path from "node:path";
import { movedStateProblem, stateDirOf, stateDirProblem } from "../src/startup/state-dir";
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
  const source = need("SFTP_SOURCE");
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
    drop: { baseUrl: need("DOCK_URL"), source, token },
    // Unset: under sftp-<source>/ in the state directory (DOCK_STATE_DIR; see sidecar/README.md).
    ledgerPath: path.resolve(env.SFTP_LEDGER_PATH ?? path.join(stateDirOf(env), `sftp-${source}`, "ledger.jsonl")),
    stagingDir: path.resolve(env.SFTP_STAGING_DIR ?? path.join(stateDirOf(env), `sftp-${source}`, "staging")),
    pollSeconds: Number(env.SFTP_POLL_SECONDS ?? 300),
  };
}

/**
 * `node sidecar/dist/sftp.mjs`: poll forever; a missing setting, an unwritable state directory or
 * a host key mismatch stops the process (exit 2).
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof configFromEnv>;
  try {
    config = configFromEnv(process.env);
  } catch (err) {
    log("error", { event: "sftp.config_invalid", error: errorText(err) });
    process.exit(2);
  }
  const problems = [
    stateDirProblem(path.dirname(config.ledgerPath)),
    stateDirProblem(config.stagingDir),
    process.env.SFTP_LEDGER_PATH ? null : movedStateProblem(config.ledgerPath, "data/sftp-ledger.jsonl", "SFTP_LEDGER_PATH"),
  ].filter((p): p is string => p !== null);
  for (const error of problems) log("error", { event: "sftp.start_refused", source: config.drop.source, error });
  if (problems.length > 0) process.exit(2);
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
