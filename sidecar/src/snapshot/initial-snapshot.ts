import type { SidecarConfig } from "../config";
import type { SidecarMetrics } from "../health/metrics";

type Deliver = (messageId: string, body: string, records: number) => Promise<void>;

/** Placeholder until the snapshot copier lands: no snapshot work. */
export class InitialSnapshot {
  constructor(
    readonly config: SidecarConfig,
    readonly runId: string,
    readonly deliver: Deliver,
    readonly metrics: SidecarMetrics,
  ) {}
  async beginExported(_snapshotName: string, _lsn: bigint): Promise<void> {}
  async resumeIfUnfinished(_slot: string): Promise<void> {}
  async run(): Promise<void> {}
  stop(): void {}
  async settled(): Promise<void> {}
}
