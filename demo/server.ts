import { serve } from "@hono/node-server";
import { createDemoVendor, type DemoVendorOptions, type DemoVendorStats } from "./app";

export interface RunningDemoVendor {
  url: string;
  port: number;
  stats: DemoVendorStats;
  stop(): Promise<void>;
}

/** Starts the demo vendor on Node. `port: 0` picks a free port; the URL is in the result. */
export async function startDemoVendor(options: DemoVendorOptions & { port?: number; hostname?: string } = {}): Promise<RunningDemoVendor> {
  const { app, stats } = createDemoVendor(options);
  const hostname = options.hostname ?? "127.0.0.1";
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 8788, hostname }, (info) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        port: info.port,
        stats,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
