import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BSON, type ChangeStreamDocument, MongoClient, MongoServerSelectionError } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryRejected, SignedSender } from "../delivery/signed-sender";
import { freePort } from "../../test/helpers/pg-cluster";
import { TEST_SECRET, WebhookSink } from "../../test/helpers/webhook-sink";
import { changeEventRecord, UnresumableEvent } from "./change-event-record";
import { type ChangeSource, MongoCdc } from "./mongo-cdc";
import { TokenFile } from "./token-file";

const { ObjectId, Long, Decimal128, Timestamp } = BSON;
const ns = { db: "shop", coll: "orders" };
let seq = 0;
const token = () => ({ _data: `8263${(++seq).toString(16).padStart(8, "0")}000000012B022C0100296E5A1004` });
const base = () => ({ _id: token(), ns, clusterTime: new Timestamp({ t: 1764057600, i: seq }), wallTime: new Date(0) });

/** Change events shaped like the driver's ChangeStreamDocument types (as a server would send them). */
function anInsert(doc: BSON.Document): ChangeStreamDocument {
  return { ...base(), operationType: "insert", documentKey: { _id: doc._id }, fullDocument: doc } as ChangeStreamDocument;
}
function anUpdate(id: unknown, fullDocument: BSON.Document | null): ChangeStreamDocument {
  return {
    ...base(),
    operationType: "update",
    documentKey: { _id: id },
    updateDescription: { updatedFields: { total: new Decimal128("20.00") }, removedFields: ["note"], truncatedArrays: [] },
    fullDocument,
  } as unknown as ChangeStreamDocument;
}
function aDelete(id: unknown): ChangeStreamDocument {
  return { ...base(), operationType: "delete", documentKey: { _id: id } } as ChangeStreamDocument;
}

class ArrayStream implements ChangeSource {
  closed = false;
  constructor(private readonly events: ChangeStreamDocument[]) {}
  async tryNext() {
    return this.events.shift() ?? null;
  }
  async close() {
    this.closed = true;
  }
}

describe("MongoDB change events (driver types, no server)", () => {
  it("given an insert with Long, Decimal128, dates and an ObjectId, when enveloped, then data is exact canonical EJSON and the id is stable", () => {
    const _id = new ObjectId("507f1f77bcf86cd799439011");
    const ev = anInsert({
      _id,
      n: Long.fromString("9223372036854775807"),
      total: new Decimal128("10.10"),
      at: new Date(Date.UTC(2026, 10, 25)),
    });
    const r = changeEventRecord("app_mongo", "run", "2026-11-25T08:00:00.000Z", ev);
    const env = JSON.parse(r?.line ?? "{}");
    expect(r?.line).toContain(
      '"data":{"_id":{"$oid":"507f1f77bcf86cd799439011"},"n":{"$numberLong":"9223372036854775807"},"total":{"$numberDecimal":"10.10"},"at":{"$date":{"$numberLong":"1795564800000"}}}',
    );
    expect(env._dock).toMatchObject({
      stream: "shop.orders",
      op: "insert",
      key: "507f1f77bcf86cd799439011",
      version: (ev._id as { _data: string })._data,
    });
    expect(changeEventRecord("app_mongo", "other-run", "later", ev)?.id).toBe(r?.id);
  });

  it("given updates, replaces and deletes, when enveloped, then ops, keys and update descriptions come through and stream-ending events stop the stream", () => {
    const up = JSON.parse(changeEventRecord("s", "r", "t", anUpdate("k1", { _id: "k1", total: new Decimal128("20.00") }))?.line ?? "");
    expect(up._dock).toMatchObject({
      op: "update",
      key: "k1",
      update_description: { updatedFields: { total: { $numberDecimal: "20.00" } }, removedFields: ["note"] },
    });
    const gone = JSON.parse(changeEventRecord("s", "r", "t", anUpdate(7, null))?.line ?? "");
    expect(gone._dock).toMatchObject({ key: '{"$numberInt":"7"}', full_document: "missing" });
    expect(gone.data).toEqual({ _id: { $numberInt: "7" } });
    const del = JSON.parse(changeEventRecord("s", "r", "t", aDelete("k1"))?.line ?? "");
    expect(del).toMatchObject({ _dock: { op: "delete", key: "k1" }, data: { _id: "k1" } });
    expect(changeEventRecord("s", "r", "t", { ...base(), operationType: "createIndexes" } as unknown as ChangeStreamDocument)).toBeNull();
    expect(() => changeEventRecord("s", "r", "t", { _id: token(), operationType: "invalidate" } as ChangeStreamDocument)).toThrow(
      UnresumableEvent,
    );
  });
});

describe("MongoCdc delivery and resume tokens (fake change stream, real signed HTTP)", () => {
  let sink: WebhookSink;
  beforeAll(async () => {
    sink = await new WebhookSink().start();
  });
  afterAll(async () => {
    await sink.stop();
  });

  it("given a delivery the Worker refuses, when the loop stops, then the saved token is the last durable event's and a resume re-sends the rest without loss", async () => {
    const events = Array.from({ length: 10 }, (_, i) => anInsert({ _id: `d${i}`, v: i }));
    const file = new TokenFile(path.join(mkdtempSync(path.join(tmpdir(), "dock-mongo-")), "token.json"));
    const sender = new SignedSender({ url: sink.url, secret: TEST_SECRET, maxBackoffMs: 20 });
    sink.failWith = (n) => (n === 0 ? 503 : n === 2 ? 422 : undefined); // a retry, then a refusal on batch 2
    const stream = new ArrayStream([...events]);
    const cdc = new MongoCdc(stream, {
      source: "app_mongo",
      runId: "m1",
      maxRecords: 4,
      idleMs: 5,
      deliver: (id, b) => sender.send(id, b),
      saveToken: (t) => file.write(t),
    });
    await expect(cdc.run()).rejects.toBeInstanceOf(DeliveryRejected);
    expect(stream.closed).toBe(true);
    expect(file.read()).toEqual(events[3]?._id);

    // Resume: the driver would restart after the saved token; the fake does the same.
    sink.failWith = null;
    const saved = file.read() as { _data: string };
    const rest = events.slice(events.findIndex((e) => (e._id as { _data: string })._data === saved._data) + 1);
    const again = new MongoCdc(new ArrayStream(rest), {
      source: "app_mongo",
      runId: "m2",
      maxRecords: 4,
      idleMs: 5,
      deliver: (id, b) => sender.send(id, b),
      saveToken: (t) => file.write(t),
    });
    setTimeout(() => again.stop(), 200);
    await again.run();
    expect(sink.unique("shop.orders").map((r) => r.dock.key)).toEqual(events.map((_, i) => `d${i}`));
    expect(file.read()).toEqual(events[9]?._id);
  });

  it("given no reachable MongoDB, when the driver's change stream is read, then it fails with the driver's server-selection error and no token is written", async () => {
    const port = await freePort();
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 300 });
    const dir = mkdtempSync(path.join(tmpdir(), "dock-mongo-"));
    const file = new TokenFile(path.join(dir, "token.json"));
    const cdc = new MongoCdc(client.db("shop").watch([], { fullDocument: "updateLookup" }), {
      source: "app_mongo",
      runId: "m3",
      maxRecords: 10,
      idleMs: 5,
      deliver: async () => {},
      saveToken: (t) => file.write(t),
    });
    await expect(cdc.run()).rejects.toBeInstanceOf(MongoServerSelectionError);
    expect(existsSync(path.join(dir, "token.json"))).toBe(false);
    await client.close();
  });
});
