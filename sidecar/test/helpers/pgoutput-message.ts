/** Builds pgoutput messages byte by byte, as the server writes them. */
export class Msg {
  private parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(`${s}\0`, "utf8"));
    return this;
  }
  text(s: string) {
    const b = Buffer.from(s, "utf8");
    return this.ch("t").i32(b.length).raw(b);
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  build() {
    return Buffer.concat(this.parts);
  }
}
