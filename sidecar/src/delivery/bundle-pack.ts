/** A record ready to deliver: its `_dock.id`, its envelope line and the stream it belongs to. */
export interface OutRecord {
  stream: string;
  id: string;
  line: string;
}

export interface BundleHead {
  source: string;
  stream: string;
  pattern: "cdc" | "full_refresh" | "poll";
  received_at: string;
  run_id: string;
  snapshot?: { run_id: string; part: number };
}

/** The Worker's queue takes about 120 KB a message; we stay under 110 KB and the Worker re-packs above. */
export const BUNDLE_BYTES = 110_000;

/**
 * Serialises the records of one stream as bundle JSON texts of at most `limit` bytes each (a
 * single record larger than that goes alone; the Worker claim-checks it). Texts, not objects:
 * the delivery body is assembled from them without a second JSON.stringify.
 */
export function packStream(head: BundleHead, records: { id: string; line: string }[], limit = BUNDLE_BYTES): string[] {
  return packGroups(head, records, limit).map((g) => g.text);
}

/**
 * Snapshot parts: one bundle is one part, numbered from `firstPart` (the raw writer puts each part
 * at `snapshot=<run>/part-<n>`).
 */
export function packParts(
  head: BundleHead & { snapshot: { run_id: string; part: number } },
  records: { id: string; line: string }[],
  limit = BUNDLE_BYTES - 100,
): string[] {
  return packGroups(head, records, limit).map((g, i) => {
    const partHead = { ...head, snapshot: { run_id: head.snapshot.run_id, part: head.snapshot.part + i } };
    return bundleText(partHead, g.texts);
  });
}

function bundlePrefix(head: BundleHead): string {
  return `{"kind":"bundle","v":1,${JSON.stringify(head).slice(1, -1)},"dedupe":"bundle","records":[`;
}

function bundleText(head: BundleHead, texts: string[]): string {
  return `${bundlePrefix(head)}${texts.join(",")}]}`;
}

function packGroups(head: BundleHead, records: { id: string; line: string }[], limit: number): { texts: string[]; text: string }[] {
  const prefix = bundlePrefix(head);
  const suffix = "]}";
  const base = Buffer.byteLength(prefix) + suffix.length;
  const out: { texts: string[]; text: string }[] = [];
  let parts: string[] = [];
  let size = base;
  for (const r of records) {
    const text = `{"id":"${r.id}","line":${JSON.stringify(r.line)}}`;
    const bytes = Buffer.byteLength(text) + 1;
    if (parts.length > 0 && size + bytes > limit) {
      out.push({ texts: parts, text: prefix + parts.join(",") + suffix });
      parts = [];
      size = base;
    }
    parts.push(text);
    size += bytes;
  }
  if (parts.length > 0) out.push({ texts: parts, text: prefix + parts.join(",") + suffix });
  return out;
}

export function deliveryBody(bundleTexts: string[]): string {
  return `{"bundles":[${bundleTexts.join(",")}]}`;
}
