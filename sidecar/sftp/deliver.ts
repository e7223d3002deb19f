import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { PermanentError } from "./retry";

export interface DropTarget {
  /** The Worker's origin, e.g. https://dock.example.com */
  baseUrl: string;
  source: string;
  /** The source's files token (`<SOURCE>_FILES_TOKEN` on the Worker). */
  token: string;
}

export interface DropAnswer {
  status: "landed" | "duplicate";
  key: string;
  sha256: string;
}

/**
 * PUTs a local file to the Worker's drop route, streamed with its length. 2xx only once the Worker
 * has the file in R2 and its ledger; 408/429/5xx and network errors throw to be retried. 401, 403
 * and 404 say our settings are wrong (token, source, URL), not the file: they throw to be retried
 * too, so no file is marked refused for them. Any other 4xx is a PermanentError (the file is refused
 * as it is; retrying cannot help until an operator changes something).
 */
export async function putDrop(target: DropTarget, name: string, localPath: string, size: number, sha256: string): Promise<DropAnswer> {
  const url = `${target.baseUrl.replace(/\/$/, "")}/files/${encodeURIComponent(target.source)}/${encodeURIComponent(name)}`;
  const res = await fetch(url, {
    method: "PUT",
    headers: { authorization: `Bearer ${target.token}`, "content-length": String(size), "content-type": "application/octet-stream" },
    body: Readable.toWeb(createReadStream(localPath)) as ReadableStream<Uint8Array>,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    throw new Error(`drop route answered ${res.status}: ${text.slice(0, 200)}`);
  if (res.status === 401 || res.status === 403 || res.status === 404)
    throw new Error(`drop route answered ${res.status}: check DOCK_URL, SFTP_SOURCE and SFTP_FILES_TOKEN (${text.slice(0, 200)})`);
  if (!res.ok) throw new PermanentError(`drop route refused ${name} with ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as DropAnswer;
  if (body.sha256 !== sha256) throw new Error(`the Worker hashed ${name} as ${body.sha256}, we sent ${sha256}`);
  return body;
}
