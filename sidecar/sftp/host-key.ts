import { createHash, timingSafeEqual } from "node:crypto";
import { PermanentError } from "./retry";

export class HostKeyMismatch extends PermanentError {}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The pin is either a fingerprint (`SHA256:…`, as `ssh-keygen -lf key.pub` prints it) or a public
 * key line (`ssh-ed25519 AAAA… comment`, as in known_hosts). No pin is a configuration error:
 * trusting whatever key answers would make the pin pointless.
 */
export function hostKeyVerifier(pin: string | undefined): { verify: (blob: Buffer) => boolean; pinned: string } {
  const value = (pin ?? "").trim();
  if (!value) throw new HostKeyMismatch("no pinned host key (SFTP_HOST_KEY): refusing to connect to an unknown host");
  const expected = value.startsWith("SHA256:") ? value : fingerprint(keyLineBlob(value));
  return {
    pinned: expected,
    verify: (blob) => {
      const got = Buffer.from(fingerprint(blob));
      const want = Buffer.from(expected);
      return got.length === want.length && timingSafeEqual(got, want);
    },
  };
}

function keyLineBlob(line: string): Buffer {
  const parts = line.split(/\s+/);
  const base64 = parts.find((p) => /^AAAA[A-Za-z0-9+/]+={0,2}$/.test(p));
  if (!base64) throw new HostKeyMismatch("SFTP_HOST_KEY is neither a SHA256: fingerprint nor a public key line");
  return Buffer.from(base64, "base64");
}
