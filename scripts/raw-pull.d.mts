export function rawPull(options: {
  dir: string;
  url: string;
  token: string | undefined;
  prefix?: string;
}): Promise<{ pulled: number; skipped: number; root: string; keys: string[] }>;
