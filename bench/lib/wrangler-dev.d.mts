export function freePort(): Promise<number>;
export interface RunningWranglerDev {
  url: string;
  state: string;
  log(): string;
  stop(): Promise<void>;
}
export function startWranglerDev(options?: {
  config?: string;
  vars?: Record<string, string>;
  health?: string;
  args?: string[];
}): Promise<RunningWranglerDev>;
