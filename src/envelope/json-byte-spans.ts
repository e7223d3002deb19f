import type { Span } from "./json-spans";

/**
 * Where the elements of a top-level property's array sit in JSON bytes, so a part of a request
 * body can travel on as the bytes it came as instead of being serialised again. Expects bytes
 * that JSON.parse has accepted. Answers null whenever it cannot be sure it found what JSON.parse
 * would: a top-level key written with escapes, or the property absent or not an array. Of a
 * repeated key it takes the last, as JSON.parse does. (UTF-8 never puts an ASCII byte inside a
 * multi-byte character, so the structural bytes can be read one by one.)
 */
export function propertyArrayByteSpans(bytes: Uint8Array, name: string): Span[] | null {
  const want = new TextEncoder().encode(name);
  let i = skipWhitespace(bytes, 0);
  if (bytes[i] !== 0x7b) return null;
  i = skipWhitespace(bytes, i + 1);
  let found: Span | null = null;
  while (bytes[i] === 0x22) {
    const keyEnd = stringEnd(bytes, i);
    if (bytes.subarray(i + 1, keyEnd - 1).includes(0x5c)) return null;
    const matches = keyEnd - i - 2 === want.length && want.every((b, k) => bytes[i + 1 + k] === b);
    i = skipWhitespace(bytes, keyEnd);
    if (bytes[i] !== 0x3a) return null;
    i = skipWhitespace(bytes, i + 1);
    const end = valueEnd(bytes, i);
    if (matches) found = [i, end];
    i = skipWhitespace(bytes, end);
    if (bytes[i] !== 0x2c) break;
    i = skipWhitespace(bytes, i + 1);
  }
  if (!found || bytes[found[0]] !== 0x5b) return null;
  const spans: Span[] = [];
  i = skipWhitespace(bytes, found[0] + 1);
  if (bytes[i] === 0x5d) return spans;
  for (;;) {
    const end = valueEnd(bytes, i);
    spans.push([i, end]);
    i = skipWhitespace(bytes, end);
    if (bytes[i] === 0x5d) return spans;
    if (bytes[i] !== 0x2c) return null;
    i = skipWhitespace(bytes, i + 1);
  }
}

function skipWhitespace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** The index just after the string whose opening quote is at i. */
function stringEnd(bytes: Uint8Array, i: number): number {
  for (let j = i + 1; j < bytes.length; j++) {
    const c = bytes[j];
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  throw new SyntaxError("unterminated string");
}

/** The index just after the value that starts at i. */
function valueEnd(bytes: Uint8Array, i: number): number {
  const first = bytes[i];
  if (first === 0x22) return stringEnd(bytes, i);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let j = i; j < bytes.length; j++) {
      const c = bytes[j];
      if (c === 0x22) j = stringEnd(bytes, j) - 1;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new SyntaxError("unterminated container");
  }
  let j = i;
  for (; j < bytes.length; j++) {
    const c = bytes[j];
    if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) break;
  }
  return j;
}
