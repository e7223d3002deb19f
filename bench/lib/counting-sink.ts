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
    // Searched chunk by chunk, each with the tail of the one before (a marker may straddle two).
    let tail = Buffer.alloc(0);
    let manifest = false;
    req.on("data", (c: Buffer) => {
      const text = tail.length > 0 ? Buffer.concat([tail, c.subarray(0, MANIFESTS.length)]) : null;
      if (text) {
        // Only markers that start in the tail and end in this chunk: the others were counted before.
        for (let i = text.indexOf(RECORD); i >= 0 && i < tail.length; i = text.indexOf(RECORD, i + 1))
          if (i + RECORD.length > tail.length) records++;
        manifest ||= text.includes(MANIFESTS);
      }
      for (let i = c.indexOf(RECORD); i >= 0; i = c.indexOf(RECORD, i + RECORD.length)) records++;
      manifest ||= c.includes(MANIFESTS);
      tail = Buffer.from(c.subarray(Math.max(0, c.length - MANIFESTS.length + 1)));
    });
    req.on("end", () => {
      if (manifest) manifests++;
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
