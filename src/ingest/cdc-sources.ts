import type { SourceDefinition } from "../sources/define-source";

export interface CdcSourcesEnv {
  /** The sources the sidecars are declared for, comma-separated (wrangler.toml [vars]). */
  CDC_SOURCES?: string;
}

let parsedFrom: string | undefined;
let parsed: ReadonlySet<string> = new Set();

/** CDC_SOURCES as a set of names (empty when unset: the door then takes no source). */
export function declaredCdcSources(env: CdcSourcesEnv): ReadonlySet<string> {
  if (env.CDC_SOURCES !== parsedFrom) {
    parsedFrom = env.CDC_SOURCES;
    parsed = new Set(
      (env.CDC_SOURCES ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }
  return parsed;
}

/**
 * Why the sidecar's secret may not write `source`, or null when it may. Only the sources its
 * sidecars are declared for; never a source this Worker ingests itself (a vendor in the registry),
 * even when CDC_SOURCES names one by mistake: the secret of a database sidecar must not be able to
 * write or shadow a vendor's records.
 */
export function cdcSourceRefusal(source: string, env: CdcSourcesEnv, find: (name: string) => SourceDefinition | undefined): string | null {
  if (find(source)) return `source ${JSON.stringify(source)} is a vendor source of this Worker; the sidecar's door never writes it`;
  const declared = declaredCdcSources(env);
  if (declared.has(source)) return null;
  const now = declared.size > 0 ? `CDC_SOURCES is ${JSON.stringify([...declared].join(","))}` : "CDC_SOURCES is not set";
  return `source ${JSON.stringify(source)} is not declared for the sidecar's door (${now}); add it to the Worker's CDC_SOURCES`;
}
