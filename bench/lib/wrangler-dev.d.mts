export function freePort(): Promise<number>;
export interface RunningWranglerDev {
  url: string;
  state: string;
  pid: number;
  inspectorPort: number;
  log(): string;
  stop(): Promise<void>;
}
export function startWranglerDev(options?: {
  config?: string;
  vars?: Record<string, string>;
  health?: string;
  args?: string[];
  /** Run a bundle made at start instead of watching (and rebuilding on) source edits. */
  freeze?: boolean;
}): Promise<RunningWranglerDev>;
