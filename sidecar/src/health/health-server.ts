import { createServer, type Server } from "node:http";
import { type SidecarMetrics, prometheusText } from "./metrics";

/** `GET /healthz` (JSON, 200 while streaming, 503 otherwise) and `GET /metrics` (Prometheus text). */
export function startHealthServer(host: string, port: number, metrics: () => SidecarMetrics): Promise<Server> {
  const server = createServer((req, res) => {
    const m = metrics();
    if (req.method === "GET" && req.url === "/healthz") {
      const healthy = m.state === "streaming" && m.slot_wal_status !== "lost";
      res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: healthy, ...m }));
      return;
    }
    if (req.method === "GET" && req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(prometheusText(m));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not found"}');
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
