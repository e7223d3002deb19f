// Worker entry: the sidecar runs its TypeScript through tsx, and a worker thread does not inherit
// the main thread's loader, so it registers tsx itself before loading the worker's code.
import { register } from "tsx/esm/api";

register();
await import("./copy-encode-thread.ts");
