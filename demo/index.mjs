// Plain-JS entry for scripts: `const { startDemoVendor } = await import("./demo/index.mjs")`.
// Loads the TypeScript server through tsx, so no build step is needed.
import { tsImport } from "tsx/esm/api";

const server = await tsImport("./server.ts", import.meta.url);

/** @type {typeof import("./server.ts").startDemoVendor} */
export const startDemoVendor = server.startDemoVendor;

// `node demo/index.mjs [port]` runs the demo vendor on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const vendor = await startDemoVendor({ port: Number(process.argv[2] ?? 8788), touchPerMinute: 30 });
  console.log(`demo vendor on ${vendor.url} (token: see demo/fixtures.ts DEMO_TOKEN)`);
}
