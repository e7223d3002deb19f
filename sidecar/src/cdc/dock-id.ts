import { hash } from "node:crypto";
import { ByteWriter } from "../delivery/byte-writer";

/** The same function as src/envelope/dock-id.ts, synchronous with node:crypto. */
export function dockIdSync(source: string, stream: string, key: string, version: string): string {
  return hash("sha256", `${source}\n${stream}\n${key}\n${version}`, "hex").slice(0, 32);
}

const HEX = Buffer.from("0123456789abcdef", "latin1");

/**
 * The same id, written as 32 hex bytes straight into a delivery buffer, from the UTF-8 bytes of
 * `source\nstream\nkey\nversion` built in `input`. Encoders hash a record each, so this hashes a
 * view cached per input length (a fresh `subarray` per record cost more than the digest) and
 * takes the digest as latin1 (half the string a hex digest makes).
 */
export class DockIdWriter {
  private views: Buffer[] = [];
  private viewsOf: Buffer | null = null;

  constructor(readonly input: ByteWriter = new ByteWriter(1024)) {}

  /** Hashes `input[0, input.pos)` and writes the id at `out[p]`; returns `p + 32`. */
  write(out: Buffer, p: number): number {
    const buf = this.input.buf;
    if (buf !== this.viewsOf) {
      this.views = [];
      this.viewsOf = buf;
    }
    const n = this.input.pos;
    let view = this.views[n];
    if (view === undefined) view = this.views[n] = buf.subarray(0, n);
    const digest = hash("sha256", view, "binary"); // "binary" is latin1
    for (let k = 0; k < 16; k++) {
      const c = digest.charCodeAt(k);
      out[p++] = HEX[c >> 4] as number;
      out[p++] = HEX[c & 15] as number;
    }
    return p;
  }
}
