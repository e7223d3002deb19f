import { describe, expect, it } from "vitest";
import { envelopeLine } from "../../../src/envelope/envelope";
import { UNCHANGED_TOAST } from "../pgoutput/messages";
import { ChangeRecordBuilder } from "./change-records";
import { dockIdSync } from "./dock-id";
import { RelationCache } from "./relations";

describe("ChangeRecordBuilder", () => {
  it("given an update with an old key, an unchanged TOAST column and a NULL, when built, then the line is byte for byte what envelopeLine makes from the same facts", () => {
    const rel = new RelationCache().set({
      tag: "relation",
      relationId: 1,
      schema: "public",
      name: "docs",
      replicaIdentity: "d",
      columns: [
        { isKey: true, name: "id", typeOid: 23, typeMod: -1 },
        { isKey: false, name: "body", typeOid: 25, typeMod: -1 },
        { isKey: false, name: 'note "q"', typeOid: 25, typeMod: -1 },
      ],
    });
    const b = new ChangeRecordBuilder("app_db", "run-1", () => "2026-11-25T08:00:00.000Z");
    b.resetTransaction();
    const tx = { xid: 9, commitLsn: 0x20n, commitLsnText: "0/20", commitTime: "2026-11-25T07:00:00.000001Z" };
    const r = b.build(rel, "update", 0x16n, tx, { tuple: ["2", UNCHANGED_TOAST, null] }, { tuple: ["1", null, null], kind: "K" });
    const expected = envelopeLine(
      {
        id: dockIdSync("app_db", "public.docs", "2", "0/16"),
        source: "app_db",
        stream: "public.docs",
        pattern: "cdc",
        key: "2",
        version: "0/16",
        op: "update",
        received_at: "2026-11-25T08:00:00.000Z",
        run_id: "run-1",
        extra: {
          lsn: "0/16",
          commit_lsn: "0/20",
          xid: 9,
          commit_time: "2026-11-25T07:00:00.000001Z",
          unchanged_toast: ["body"],
          old_tuple: "key",
          old: { id: "1" },
        } as unknown as Record<string, string>,
      },
      { json: '{"id":"2","note \\"q\\"":null}' },
    );
    expect(r.line).toBe(expected);
    // A second change at the same LSN (a multi-insert record) gets a distinct, deterministic version.
    const again = b.build(rel, "insert", 0x16n, tx, { tuple: ["3", "x", null] });
    expect(JSON.parse(again.line)._dock.version).toBe("0/16#1");
  });
});
