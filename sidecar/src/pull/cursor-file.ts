import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as z from "zod";

const cursorsSchema = z.record(z.string(), z.string());

/** Poll cursors per table (`schema.table` → cursor text), saved atomically after each delivered page. */
export class CursorFile {
  constructor(private readonly file: string) {}
  get(table: string): string | null {
    if (!existsSync(this.file)) return null;
    return cursorsSchema.parse(JSON.parse(readFileSync(this.file, "utf8")))[table] ?? null;
  }
  set(table: string, cursor: string): void {
    const all = existsSync(this.file) ? cursorsSchema.parse(JSON.parse(readFileSync(this.file, "utf8"))) : {};
    all[table] = cursor;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(all, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
