import * as z from "zod";

export const sloBody = z.object({
  max_silence_minutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 31),
  zero_record_runs: z.number().int().min(1).max(50).default(3),
});

/** Declares a stream's SLO (overrides its pattern's default). */
export async function setStreamSlo(d1: D1Database, source: string, stream: string, slo: z.infer<typeof sloBody>, now = new Date()) {
  await d1
    .prepare(
      `INSERT INTO stream_slos (source, stream, max_silence_minutes, zero_record_runs, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (source, stream) DO UPDATE SET max_silence_minutes = excluded.max_silence_minutes,
         zero_record_runs = excluded.zero_record_runs, updated_at = excluded.updated_at`,
    )
    .bind(source, stream, slo.max_silence_minutes, slo.zero_record_runs, now.toISOString())
    .run();
}
