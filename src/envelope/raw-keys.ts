import type { Pattern } from "./envelope";

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Source and stream names become key segments: no slashes, no `..`, nothing a lake engine would misread. */
export function isSafeSegment(name: string): boolean {
  return SEGMENT.test(name) && !name.includes("..");
}

function segment(name: string, what: string): string {
  if (!isSafeSegment(name)) throw new Error(`invalid ${what} name for a raw key: ${JSON.stringify(name)}`);
  return name;
}

export function hourPartition(at: Date): { dt: string; hr: string } {
  const iso = at.toISOString();
  return { dt: iso.slice(0, 10), hr: iso.slice(11, 13) };
}

export function rawObjectKey(p: { source: string; stream: string; pattern: Pattern; at: Date; batchId: string }): string {
  const { dt, hr } = hourPartition(p.at);
  return `raw/source=${segment(p.source, "source")}/stream=${segment(p.stream, "stream")}/dt=${dt}/hr=${hr}/${p.pattern}-${segment(p.batchId, "batch")}.jsonl.gz`;
}

export function snapshotPrefix(source: string, stream: string, runId: string): string {
  return `raw/source=${segment(source, "source")}/stream=${segment(stream, "stream")}/snapshot=${segment(runId, "run")}/`;
}

export function snapshotPartKey(source: string, stream: string, runId: string, part: number): string {
  return `${snapshotPrefix(source, stream, runId)}part-${String(part).padStart(5, "0")}.jsonl.gz`;
}

export function snapshotManifestKey(source: string, stream: string, runId: string): string {
  return `${snapshotPrefix(source, stream, runId)}_manifest.json`;
}

export function blobKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error("blob keys are sha256 hex");
  return `blobs/${sha256}`;
}

/** Keys the admin API may read: the zone's own prefixes, no traversal, no control characters. */
export function isReadableKey(key: string): boolean {
  return (
    /^(raw|files|blobs|quarantine)\//.test(key) &&
    !key.split("/").some((part) => part === ".." || part === ".") &&
    !/[\u0000-\u001f\\]/.test(key) &&
    key.length <= 1024
  );
}
