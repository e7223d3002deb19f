import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex, sha256HexNative } from "../src/lib/crypto";
import { sha256HexSync, sha256StartsWithHex } from "../src/lib/sha256-sync";
import { seeded } from "../src/lib/seeded";

const reference = (text: string) => createHash("sha256").update(text).digest("hex");

describe("sha256HexSync", () => {
  it("given the FIPS 180-2 vectors, then it gives their digests", () => {
    expect(sha256HexSync("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256HexSync("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256HexSync("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("given every length across three block boundaries, ASCII and multi-byte text, then it equals node:crypto", () => {
    const random = seeded(16);
    const alphabet = ["a", "Z", "0", "\n", "/", "é", "€", "𝄞", "日", "\u0000"];
    for (let length = 0; length < 200; length++) {
      let text = "";
      while (text.length < length) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(sha256HexSync(text), JSON.stringify(text)).toBe(reference(text));
    }
    const long = "x".repeat(5000) + "ü".repeat(3000);
    expect(sha256HexSync(long)).toBe(reference(long));
    // After a long input grew the scratch buffer, short ones still come out right.
    expect(sha256HexSync("abc")).toBe(reference("abc"));
  });

  it("given a lone surrogate, then it hashes U+FFFD as UTF-8 encoding does, like node:crypto", () => {
    expect(sha256HexSync("a\ud800b")).toBe(reference("a\ud800b"));
  });

  it("given a digit count, then it gives that many leading digits (dockId's 32)", () => {
    expect(sha256HexSync("stripe\ncharges\nch_123\nevt_9", 32)).toBe("6236316f4e6777edb22fae5d34748ff6");
  });

  it("given a hex prefix, then sha256StartsWithHex says whether the digest begins with it, digit for digit", () => {
    const id = "6236316f4e6777edb22fae5d34748ff6";
    const text = "stripe\ncharges\nch_123\nevt_9";
    expect(sha256StartsWithHex(text, id)).toBe(true);
    expect(sha256StartsWithHex(text, reference(text))).toBe(true);
    expect(sha256StartsWithHex(text, "")).toBe(true);
    for (let k = 0; k < id.length; k++) {
      const off = id.slice(0, k) + (id[k] === "0" ? "1" : "0") + id.slice(k + 1);
      expect(sha256StartsWithHex(text, off), off).toBe(false);
    }
    expect(sha256StartsWithHex(text, id.toUpperCase())).toBe(false);
    expect(sha256StartsWithHex(text, `${reference(text)}0`)).toBe(false);
  });
});

describe("sha256HexNative", () => {
  it("given text and bytes of every size up to an object's ids, then it equals WebCrypto's sha256Hex", async () => {
    const random = seeded(7);
    for (const length of [0, 1, 55, 56, 64, 3_300, 330_000]) {
      let text = "";
      while (text.length < length) text += ["a", "\n", "é", "𝄞", "0"][Math.floor(random() * 5)];
      expect(sha256HexNative(text)).toBe(await sha256Hex(text));
      const bytes = new TextEncoder().encode(text);
      expect(sha256HexNative(bytes)).toBe(await sha256Hex(bytes));
    }
  });
});
