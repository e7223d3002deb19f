import { BSON, type ChangeStreamDocument } from "mongodb";
import { dockIdSync } from "../cdc/dock-id";
import { streamName } from "../cdc/stream-name";
import type { OutRecord } from "../delivery/bundle-pack";
import { type DockMeta, envelopeLine, type Op } from "../../../src/envelope/envelope";

/** Canonical Extended JSON: Long, Decimal128, dates and ObjectIds keep their exact type and value. */
export function ejson(value: unknown): string {
  return BSON.EJSON.stringify(value as BSON.Document, { relaxed: false });
}

/** An `_id` as a record key: an ObjectId as its hex, a string as is, anything else as canonical EJSON. */
export function mongoKey(id: unknown): string {
  if (id instanceof BSON.ObjectId) return id.toHexString();
  if (typeof id === "string") return id;
  return ejson(id);
}

export class UnresumableEvent extends Error {
  override name = "UnresumableEvent";
}

/**
 * One change event as an envelope: stream `<db>.<collection>`, version = the event's resume token
 * (unique per event and the same when the event is delivered again after a resume), data = the
 * full document in canonical EJSON (the post-image from `fullDocument: "updateLookup"` for
 * updates; the document key for deletes). Returns null for events that carry no row change.
 */
export function changeEventRecord(source: string, runId: string, receivedAt: string, event: ChangeStreamDocument): OutRecord | null {
  const token = (event._id as { _data?: string })._data ?? ejson(event._id);
  switch (event.operationType) {
    case "insert":
    case "update":
    case "replace":
    case "delete": {
      const stream = streamName(event.ns.db, event.ns.coll);
      const key = mongoKey(event.documentKey._id);
      const op: Op = event.operationType === "insert" ? "insert" : event.operationType === "delete" ? "delete" : "update";
      const extra: Record<string, unknown> = {
        resume_token: token,
        cluster_time: `${event.clusterTime?.getHighBitsUnsigned() ?? 0}.${event.clusterTime?.getLowBitsUnsigned() ?? 0}`,
        operation_type: event.operationType,
      };
      if (event.txnNumber !== undefined) extra.txn_number = event.txnNumber.toString();
      let json: string;
      if (event.operationType === "delete") json = ejson(event.documentKey);
      else if (event.fullDocument) json = ejson(event.fullDocument);
      else json = ejson(event.documentKey); // the document was deleted before the lookup
      if (event.operationType === "update") {
        extra.update_description = JSON.parse(ejson(event.updateDescription)) as unknown;
        if (!event.fullDocument) extra.full_document = "missing";
      }
      const id = dockIdSync(source, stream, key, token);
      const meta: DockMeta = {
        id,
        source,
        stream,
        pattern: "cdc",
        key,
        version: token,
        op,
        received_at: receivedAt,
        run_id: runId,
        extra: extra as DockMeta["extra"],
      };
      return { stream, id, line: envelopeLine(meta, { json }) };
    }
    case "invalidate":
    case "drop":
    case "dropDatabase":
    case "rename":
      // After these the stream cannot continue past the event: an operator decides what next.
      throw new UnresumableEvent(
        `change stream event ${event.operationType}: the stream cannot resume past it; re-snapshot the collection`,
      );
    default:
      return null;
  }
}
