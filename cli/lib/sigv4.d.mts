export const EMPTY_SHA256: string;
export function uriEncode(text: string, keepSlash?: boolean): string;
export function signV4(request: {
  method: string;
  url: string;
  headers?: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
  now?: Date;
}): { "x-amz-date": string; "x-amz-content-sha256": string; authorization: string };
