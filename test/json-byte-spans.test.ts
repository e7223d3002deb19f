import { describe, expect, it } from "vitest";
import { propertyArrayByteSpans } from "../src/envelope/json-byte-spans";
import { seeded } from "../src/lib/seeded";

const bytes = (text: string) => new TextEncoder().encode(text);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** JSON text of a value, with random whitespace between tokens and nasty strings inside. */
function aValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.35) {
    const strings = ['"', "\\", '\\"', "]}", "{[", ",", "é😀", "\u2028", "\n\t", "bundles", '"bundles":[1]', ""];
    const pick = Math.floor(rand() * 6);
    if (pick === 0) return strings[Math.floor(rand() * strings.length)]?.repeat(1 + Math.floor(rand() * 3));
    if (pick === 1) return Math.floor(rand() * 1e6) - 5e5;
    if (pick === 2) return rand() < 0.5;
    if (pick === 3) return null;
    if (pick === 4) return 1.5e-7;
    return "plain";
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => aValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (let k = Math.floor(rand() * 4); k > 0; k--)
    o[["a", "b]", 'q"', "x\\y", "bundles"][Math.floor(rand() * 5)] as string] = aValue(rand, depth + 1);
  return o;
}

function spaced(rand: () => number, value: unknown): string {
  const ws = () => [" ", "\n", "\t", "\r\n  ", ""][Math.floor(rand() * 5)] as string;
  if (Array.isArray(value)) return `${ws()}[${ws()}${value.map((v) => spaced(rand, v)).join(`${ws()},${ws()}`)}${ws()}]${ws()}`;
  if (value && typeof value === "object")
    return `${ws()}{${Object.entries(value)
      .map(([k, v]) => `${ws()}${JSON.stringify(k)}${ws()}:${spaced(rand, v)}`)
      .join(",")}${ws()}}${ws()}`;
  return `${ws()}${JSON.stringify(value)}${ws()}`;
}

describe("propertyArrayByteSpans", () => {
  it("given 3,000 random bodies, when the spans are found, then each parses to the element JSON.parse sees", () => {
    const rand = seeded(8);
    let found = 0;
    for (let n = 0; n < 3_000; n++) {
      const bundles = Array.from({ length: Math.floor(rand() * 5) }, () => aValue(rand));
      const text = spaced(rand, { before: aValue(rand), bundles, after: aValue(rand) });
      const body = bytes(text);
      const spans = propertyArrayByteSpans(body, "bundles");
      expect(spans).not.toBeNull();
      const expected = (JSON.parse(text) as { bundles: unknown[] }).bundles;
      expect(spans?.map(([a, b]) => JSON.parse(decode(body.subarray(a, b))))).toEqual(expected);
      found += spans?.length ?? 0;
    }
    expect(found).toBeGreaterThan(3_000);
  });

  it("given the key twice, then the spans are those of the last, as JSON.parse keeps", () => {
    const text = '{"bundles":[1,2],"x":"\\"bundles\\":[9]","bundles":[{"a":"]"}, 3]}';
    const spans = propertyArrayByteSpans(bytes(text), "bundles");
    expect(spans?.map(([a, b]) => text.slice(a, b))).toEqual(['{"a":"]"}', "3"]);
    expect(JSON.parse(text).bundles).toEqual([{ a: "]" }, 3]);
  });

  it.each([
    ["a key written with an escape", '{"bundl\\u0065s":[1]}'],
    ["another key with an escape (it could be the same key)", '{"bundles":[1],"bundle\\u0073":[2]}'],
    ["no such key", '{"other":[1]}'],
    ["the key holding an object", '{"bundles":{"0":1}}'],
    ["a top-level array", '[{"bundles":[1]}]'],
  ])("given %s, then null (the caller serialises instead)", (_what, text) => {
    expect(propertyArrayByteSpans(bytes(text), "bundles")).toBeNull();
  });
});
