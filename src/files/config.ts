import * as z from "zod";
import { isSafeSegment } from "../envelope/raw-keys";
import { FORMATS, type FileFormat, formatFromName, streamFromName } from "./names";

export const ENCODINGS = ["auto", "utf8", "latin1", "windows-1252"] as const;
export type FileEncoding = (typeof ENCODINGS)[number];

const ruleSchema = z.object({
  /** A glob on the file name: `*` any run of characters, `?` one character. */
  match: z.string().min(1).max(200),
  stream: z.string().refine(isSafeSegment, "must be letters, digits, _ . - and not ..").optional(),
  format: z.enum(FORMATS).optional(),
  encoding: z.enum(ENCODINGS).optional(),
  delimiter: z.string().min(1).max(4).optional(),
});
const sourceSchema = z.object({ maxBytes: z.number().int().positive().optional(), rules: z.array(ruleSchema).default([]) });
export const filesConfigSchema = z.record(z.string(), sourceSchema);
export type FilesConfig = z.infer<typeof filesConfigSchema>;

/** How one file is read: decided once, at landing, and kept in the ledger for every parse step. */
export interface FileSpec {
  stream: string;
  format: FileFormat | null;
  gzip: boolean;
  encoding: FileEncoding;
  delimiter?: string;
}

/** FILES_CONFIG (JSON, optional): per source, a size limit and rules by file name. Bad JSON is a loud error. */
export function readFilesConfig(raw: string | undefined): FilesConfig {
  if (!raw) return {};
  const parsed = filesConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`FILES_CONFIG is invalid: ${parsed.error.issues[0]?.message ?? "?"}`);
  return parsed.data;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

export function fileSpec(config: FilesConfig, source: string, name: string): FileSpec {
  const rule = config[source]?.rules.find((r) => globToRegExp(r.match).test(name));
  const fromName = formatFromName(name);
  return {
    stream: rule?.stream ?? streamFromName(name),
    format: rule?.format ?? fromName.format,
    gzip: fromName.gzip,
    encoding: rule?.encoding ?? "auto",
    ...(rule?.delimiter ? { delimiter: rule.delimiter } : {}),
  };
}

export function maxFileBytes(config: FilesConfig, source: string, envLimit: string | undefined): number {
  return config[source]?.maxBytes ?? Number(envLimit ?? 5_000_000_000);
}
