import type { BundleRecord } from "../envelope/bundle";
import { lineIdentityError } from "../envelope/line-identity";
import type { SourceDefinition } from "../sources/define-source";
import { type CdcSourcesEnv, cdcSourceRefusal } from "./cdc-sources";

interface PreparedBundle {
  source: string;
  stream: string;
  pattern: string;
  records: BundleRecord[];
}

/**
 * Why a signed sidecar delivery may not be queued, or null. Every bundle and manifest must name a
 * source the sidecars are declared for (403 otherwise), and every line must be the envelope its
 * record says, with an id that is dockId of its own source, stream, key and version (422). Checked
 * before anything is queued, so a refused delivery leaves nothing behind.
 */
export function deliveryRefusal(
  delivery: { bundles: readonly PreparedBundle[]; manifests?: readonly { source: string }[] },
  env: CdcSourcesEnv,
  find: (name: string) => SourceDefinition | undefined,
): { status: 403 | 422; error: string } | null {
  const named: [string, string][] = [
    ...delivery.bundles.map((b, i): [string, string] => [`bundles.${i}`, b.source]),
    ...(delivery.manifests ?? []).map((m, i): [string, string] => [`manifests.${i}`, m.source]),
  ];
  for (const [at, source] of named) {
    const refusal = cdcSourceRefusal(source, env, find);
    if (refusal) return { status: 403, error: `refused delivery at ${at}.source: ${refusal}` };
  }
  for (let b = 0; b < delivery.bundles.length; b++) {
    const bundle = delivery.bundles[b] as PreparedBundle;
    const list = bundle.records;
    for (let r = 0; r < list.length; r++) {
      const record = list[r] as BundleRecord;
      const error = lineIdentityError(record.line, record.id, bundle);
      if (error) return { status: 422, error: `invalid delivery at bundles.${b}.records.${r}.line: ${error}` };
    }
  }
  return null;
}
