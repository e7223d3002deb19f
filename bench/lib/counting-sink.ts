import { createServer } from "node:http";

const RECORD = Buffer.from('{"id":"');
const MANIFESTS = Buffer.from('"manifests":[{');

/**
 * The stand-in for the Worker in the sidecar benchmarks: takes each delivery, counts its records
 * (and snapshot manifests) by searching the bytes, and answers 200 without verifying anything.
 * Cheap on purpose: what is measured is the sidecar, not the sink sharing its two cores.
 */
export async function countingSink(): Promise<{ url: string; records: () => number; manifests: () => number; close: () => void }> {
  let records = 0;
  let manifests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      for (let i = body.indexOf(RECORD); i >= 0; i = body.indexOf(RECORD, i + RECORD.length)) records++;
      if (body.includes(MANIFESTS)) manifests++;
      res.writeHead(200).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    records: () => records,
    manifests: () => manifests,
    close: () => server.close(),
  };
}
