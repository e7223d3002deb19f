import { type BundleHeader, type BundleRecord, MESSAGE_BYTES, packBundles, type SnapshotManifestMessage } from "../envelope/bundle";
import { enqueueRecords, type IngestBindings } from "../ingest/enqueue";

/**
 * Sends one page of a full refresh as snapshot parts, numbered from `firstPart`: one bundle is one
 * part (so a part never spans two writer batches). Returns how many parts it used. The same page
 * sent again after a crash gets the same numbers and the same bytes, so the writer dedupes it.
 */
export async function enqueueSnapshotPage(
  env: IngestBindings,
  head: BundleHeader,
  runId: string,
  firstPart: number,
  records: BundleRecord[],
): Promise<number> {
  // Headroom for the snapshot field that each bundle gains below.
  const { bundles, oversized } = packBundles(head, records, MESSAGE_BYTES - 100);
  let part = firstPart;
  for (const bundle of [...bundles, ...oversized]) {
    await enqueueRecords(env, { ...head, snapshot: { run_id: runId, part } }, bundle.records);
    part++;
  }
  return part - firstPart;
}

export async function enqueueManifest(queue: Queue<unknown>, message: Omit<SnapshotManifestMessage, "kind" | "v">): Promise<void> {
  const body: SnapshotManifestMessage = { kind: "manifest", v: 1, ...message };
  await queue.send(body, { contentType: "json" });
}
