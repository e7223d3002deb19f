import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

/**
 * Sends a request to the Worker's own fetch handler, in this isolate, with the test bindings, and
 * waits for its `waitUntil` work. Not `exports.default.fetch`: under the pool every request through
 * it is slower than the one before (cloudflare/workers-sdk#15446; measured here, 2 ms per request
 * at first and 45 ms by the 400th), which made the fuzz suites run out of time on a slow machine.
 */
export async function dispatch(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
