import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { BSON } from "mongodb";

/** The resume token of the last delivered event, kept as canonical EJSON and replaced atomically. */
export class TokenFile {
  constructor(private readonly file: string) {}
  read(): unknown | undefined {
    if (!existsSync(this.file)) return undefined;
    return BSON.EJSON.parse(readFileSync(this.file, "utf8"), { relaxed: false });
  }
  write(token: unknown): void {
    writeFileSync(`${this.file}.tmp`, BSON.EJSON.stringify(token as BSON.Document, { relaxed: false }));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
