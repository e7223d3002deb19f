import {
  asPlainRecordBundle,
  type IngestMessage,
  ingestMessageFastSchema,
  ingestMessageSchema,
  type RecordBundle,
  recordBundleFastSchema,
  recordBundleSchema,
  safeParseFast,
} from "../envelope/bundle";
import { unpackMessageBody } from "../envelope/message-body";
import { sha256Hex } from "../lib/crypto";

export type Resolved =
  | { ok: true; message: Message<unknown>; bundle: RecordBundle }
  | { ok: false; message: Message<unknown>; reason: string };

/**
 * Turns queue messages into bundles, unpacking gzip'd ones and fetching claim-checked ones from `blobs/`. A message that is
 * not a valid bundle cannot become valid by retrying, so it is reported (and quarantined by the
 * caller), while a missing blob throws: R2 may be behind, and the whole batch is retried.
 */
export async function resolveMessages(raw: R2Bucket, messages: readonly Message<unknown>[]): Promise<Resolved[]> {
  return Promise.all(
    messages.map(async (message): Promise<Resolved> => {
      const unpacked = unpackMessageBody(message.body);
      if (!unpacked.ok) return { ok: false, message, reason: unpacked.reason };
      const plain = asPlainRecordBundle(unpacked.value);
      if (plain) return { ok: true, message, bundle: plain };
      const parsed = safeParseFast<IngestMessage>(ingestMessageFastSchema, ingestMessageSchema, unpacked.value);
      if (!parsed.success) return { ok: false, message, reason: parsed.error.issues[0]?.message ?? "invalid" };
      const body = parsed.data;
      if (body.kind === "bundle") return { ok: true, message, bundle: body };
      const object = await raw.get(body.key);
      if (!object) throw new Error(`claim-checked blob ${body.key} is missing`);
      const text = await object.text();
      if ((await sha256Hex(text)) !== body.key.slice("blobs/".length)) {
        return { ok: false, message, reason: `blob ${body.key} does not match its hash` };
      }
      const bundle = safeParseFast<RecordBundle>(recordBundleFastSchema, recordBundleSchema, JSON.parse(text));
      if (!bundle.success) return { ok: false, message, reason: `blob ${body.key} is not a bundle` };
      return { ok: true, message, bundle: bundle.data };
    }),
  );
}
