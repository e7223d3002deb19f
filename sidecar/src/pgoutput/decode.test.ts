import { describe, expect, it } from "vitest";
import { decodePgoutput, PgoutputError, pgTimeToIso } from "./decode";
import { UNCHANGED_TOAST } from "./messages";
import { Msg } from "../../test/helpers/pgoutput-message";

describe("decodePgoutput", () => {
  it("given a Relation message, when decoded, then columns, identity flags and replica identity come through", () => {
    const buf = new Msg()
      .ch("R")
      .i32(16384)
      .str("public")
      .str("orders")
      .ch("f")
      .i16(2)
      .u8(1)
      .str("id")
      .i32(20)
      .i32(-1)
      .u8(0)
      .str("note")
      .i32(25)
      .i32(-1)
      .build();
    expect(decodePgoutput(buf)).toEqual({
      tag: "relation",
      relationId: 16384,
      schema: "public",
      name: "orders",
      replicaIdentity: "f",
      columns: [
        { isKey: true, name: "id", typeOid: 20, typeMod: -1 },
        { isKey: false, name: "note", typeOid: 25, typeMod: -1 },
      ],
    });
  });

  it("given an Update with an old key tuple, a NULL and an unchanged TOAST value, when decoded, then each kind is kept apart", () => {
    const buf = new Msg().ch("U").i32(7).ch("K").i16(3).text("1").ch("n").ch("n").ch("N").i16(3).text("2").ch("n").ch("u").build();
    expect(decodePgoutput(buf)).toEqual({
      tag: "update",
      relationId: 7,
      oldKind: "K",
      oldTuple: ["1", null, null],
      newTuple: ["2", null, UNCHANGED_TOAST],
    });
  });

  it("given multi-byte text, Begin, Commit, Truncate and a Message, when decoded, then values and LSNs are exact", () => {
    expect(decodePgoutput(new Msg().ch("I").i32(1).ch("N").i16(1).text("zß😀").build())).toEqual({
      tag: "insert",
      relationId: 1,
      newTuple: ["zß😀"],
    });
    expect(decodePgoutput(new Msg().ch("B").u64(0x1_0000_0010n).u64(0n).i32(-1).build())).toEqual({
      tag: "begin",
      finalLsn: 0x1_0000_0010n,
      commitTime: 0n,
      xid: 4294967295,
    });
    expect(decodePgoutput(new Msg().ch("C").u8(0).u64(100n).u64(128n).u64(1n).build())).toMatchObject({ commitLsn: 100n, endLsn: 128n });
    expect(decodePgoutput(new Msg().ch("T").i32(2).u8(3).i32(5).i32(6).build())).toEqual({
      tag: "truncate",
      cascade: true,
      restartIdentity: true,
      relationIds: [5, 6],
    });
    const m = decodePgoutput(new Msg().ch("M").u8(1).u64(42n).str("hb").i32(3).raw(Buffer.from("abc")).build());
    expect(m).toMatchObject({ tag: "message", transactional: true, lsn: 42n, prefix: "hb" });
  });

  it("given truncated, unknown or binary input, when decoded, then it fails with a clear PgoutputError", () => {
    expect(() => decodePgoutput(new Msg().ch("I").i32(1).ch("N").i16(1).ch("t").i32(10).raw(Buffer.from("abc")).build())).toThrow(
      /truncated/,
    );
    expect(() => decodePgoutput(new Msg().ch("Z").build())).toThrow(PgoutputError);
    expect(() => decodePgoutput(new Msg().ch("I").i32(1).ch("N").i16(1).ch("b").i32(1).u8(1).build())).toThrow(/binary/);
    expect(() => decodePgoutput(new Msg().ch("D").i32(1).ch("X").build())).toThrow(/'K' or 'O'/);
  });

  it("given Postgres microseconds since 2000, when rendered, then the ISO time keeps all six digits", () => {
    expect(pgTimeToIso(0n)).toBe("2000-01-01T00:00:00.000000Z");
    expect(pgTimeToIso(1_234_567n)).toBe("2000-01-01T00:00:01.234567Z");
  });
});
