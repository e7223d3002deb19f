import { describe, expect, it } from "vitest";
import { AckTracker } from "./ack-tracker";

describe("AckTracker", () => {
  it("given batches answered out of order, when the earliest is still pending, then nothing past its floor is durable", () => {
    const t = new AckTracker(100n);
    t.opened(); // tx A's changes in batch 0
    const b0 = t.sent();
    expect(t.committed(200n)).toBeNull(); // A's commit: batch 0 still unanswered
    t.opened(); // tx B's first change opens batch 1, floor = A's end
    const b1 = t.sent();
    expect(t.committed(300n)).toBeNull();
    expect(t.complete(b1)).toBeNull();
    expect(t.durable).toBe(100n);
    expect(t.complete(b0)).toBe(300n);
  });

  it("given a batch shared by the end of one transaction and the start of the next, when it is refused, then the first commit is still durable via the floor", () => {
    const t = new AckTracker(0n);
    t.opened();
    const a = t.sent();
    t.complete(a);
    expect(t.committed(50n)).toBe(50n); // A's records answered, then its commit: durable at once
    t.opened(); // B's record
    t.sent(); // never answered
    expect(t.committed(90n)).toBeNull();
    expect(t.durable).toBe(50n);
  });

  it("given idle keepalives, when changes are pending or open, then the server position is not confirmed", () => {
    const t = new AckTracker(10n);
    expect(t.advanceIdle(500n)).toBe(500n);
    t.opened();
    expect(t.advanceIdle(900n)).toBeNull();
    const s = t.sent();
    expect(t.advanceIdle(900n)).toBeNull();
    t.complete(s);
    expect(t.advanceIdle(400n)).toBeNull(); // never backwards
    expect(t.advanceIdle(900n)).toBe(900n);
  });
});
