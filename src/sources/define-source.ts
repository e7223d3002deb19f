import type { WebhookSpec } from "../webhooks/types";

/**
 * The connector contract. A source is a folder in src/sources/<name>/ that exports one definition;
 * the machinery (webhook route, poll runner, reconciler) reads only this shape.
 */
export interface SourceDefinition {
  /** Also the URL path (`/webhooks/<name>`) and the secrets' prefix (`<NAME>_WEBHOOK_SECRET`). */
  name: string;
  title: string;
  webhook?: WebhookSpec;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function defineSource<S extends SourceDefinition>(source: S): S {
  if (!NAME.test(source.name)) throw new Error(`source name ${JSON.stringify(source.name)} must match ${NAME}`);
  return source;
}
