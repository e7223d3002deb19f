import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { fileNameProblem, keySegment } from "../../../src/files/names";

export interface ReceivedDrop {
  source: string;
  name: string;
  authorization: string | undefined;
  contentLength: number;
  body: Buffer;
  sha256: string;
}

/**
 * Stands in for the Worker's `PUT /files/:source/:name` with the same answers: 201 landed, 200
 * duplicate (same sha256 again), 401 on a wrong token, 400 on a name the Worker refuses (its own
 * rule, src/files/names.ts), keys built as the Worker builds them. `failNext(n)` answers 503 to the
 * next n PUTs.
 */
export async function startDropSink(token: string) {
  const received: ReceivedDrop[] = [];
  const shas = new Map<string, string>();
  let failures = 0;
  /** Names answered 413, as the Worker does for a file over the source's limit (an operator can raise it). */
  const tooLarge = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/files\/([^/]+)\/([^/]+)$/.exec(req.url ?? "");
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "PUT" || !match) return answer(404, { error: "not found" });
      if (req.headers.authorization !== `Bearer ${token}`) return answer(401, { error: "unauthorized" });
      if (failures > 0) {
        failures--;
        return answer(503, { error: "could not store the file; retry later" });
      }
      const body = Buffer.concat(chunks);
      const name = decodeURIComponent(match[2] as string);
      const problem = fileNameProblem(name);
      if (problem) return answer(400, { error: problem });
      if (tooLarge.has(name)) return answer(413, { error: "file larger than 10 bytes" });
      const sha256 = createHash("sha256").update(body).digest("hex");
      received.push({
        source: decodeURIComponent(match[1] as string),
        name,
        authorization: req.headers.authorization,
        contentLength: Number(req.headers["content-length"]),
        body,
        sha256,
      });
      const earlier = shas.get(sha256);
      if (earlier) return answer(200, { ok: true, status: "duplicate", key: earlier, sha256 });
      const key = `files/source=${match[1]}/2026-11-25/${keySegment(name)}`;
      shas.set(sha256, key);
      return answer(201, { ok: true, status: "landed", key, sha256 });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    failNext: (n: number) => {
      failures = n;
    },
    tooLarge,
    stop: () => new Promise((r) => server.close(r)),
  };
}
