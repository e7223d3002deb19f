import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as z from "zod";

const tableState = z.object({
  /** Key values (text, in `by` order) of the last row delivered; null before the first chunk. */
  after: z.array(z.string()).nullable(),
  /** The columns `after` is in: the copy's paging key (absent in older files: the primary key). */
  by: z.array(z.string()).optional(),
  rows: z.number().int().nonnegative(),
  done: z.boolean(),
});

export const snapshotStateSchema = z.object({
  v: z.literal(1),
  slot: z.string(),
  /** `creating`: the slot was being created (a crash here means a full re-copy); `copying`; `done`. */
  phase: z.enum(["creating", "copying", "done"]),
  /** The LSN the copied rows are consistent with: their `lsn`, and their version as `snapshot:<lsn>`. */
  lsn: z.string().nullable(),
  tables: z.record(z.string(), tableState),
});

export type SnapshotState = z.infer<typeof snapshotStateSchema>;
export type TableState = z.infer<typeof tableState>;

export function readState(file: string): SnapshotState | null {
  if (!existsSync(file)) return null;
  const parsed = snapshotStateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`snapshot state file ${file} is not valid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Written to a temporary file and renamed, so a crash leaves the old state or the new, never half. */
export function writeState(file: string, state: SnapshotState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}
