import * as z from "zod";

/** A JOBS message: parse the landed file `key` from `offset` on (one step; the next is a new message). */
export const fileParseJobSchema = z.object({
  kind: z.literal("file_parse"),
  key: z
    .string()
    .regex(/^files\//)
    .max(1024),
  offset: z.number().int().nonnegative(),
});
export type FileParseJob = z.infer<typeof fileParseJobSchema>;

export function fileParseJob(key: string, offset: number): FileParseJob {
  return { kind: "file_parse", key, offset };
}
