/**
 * Finds where values sit inside a JSON text without re-serialising anything, so that a part of a
 * vendor payload (one event of a batch) can be spliced into an envelope byte for byte.
 * Every function here expects text that JSON.parse has already accepted.
 */
export type Span = readonly [start: number, end: number];

function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

function stringEnd(text: string, i: number): number {
  // i is at the opening quote
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  throw new SyntaxError("unterminated string");
}

/** The index just after the value that starts at i. */
export function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const ch = text[j];
      if (ch === '"') j = stringEnd(text, j) - 1;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new SyntaxError("unterminated container");
  }
  let j = i;
  while (j < text.length && !",]} \t\r\n".includes(text[j] as string)) j++;
  return j;
}

/** Spans of the elements of the array that starts at `from` (default: the top-level value). */
export function arrayElementSpans(text: string, from?: number): Span[] {
  let i = skipWhitespace(text, from ?? 0);
  if (text[i] !== "[") throw new SyntaxError("not an array");
  const spans: Span[] = [];
  i = skipWhitespace(text, i + 1);
  if (text[i] === "]") return spans;
  for (;;) {
    const end = valueEnd(text, i);
    spans.push([i, end]);
    i = skipWhitespace(text, end);
    if (text[i] === "]") return spans;
    if (text[i] !== ",") throw new SyntaxError("expected , or ]");
    i = skipWhitespace(text, i + 1);
  }
}

/** Span of the value of a top-level object's property, or null when it is absent. */
export function propertySpan(text: string, name: string, from?: number): Span | null {
  let i = skipWhitespace(text, from ?? 0);
  if (text[i] !== "{") throw new SyntaxError("not an object");
  i = skipWhitespace(text, i + 1);
  if (text[i] === "}") return null;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ":") throw new SyntaxError("expected :");
    i = skipWhitespace(text, i + 1);
    const end = valueEnd(text, i);
    if (key === name) return [i, end];
    i = skipWhitespace(text, end);
    if (text[i] === "}") return null;
    if (text[i] !== ",") throw new SyntaxError("expected , or }");
    i = skipWhitespace(text, i + 1);
  }
}

/** Spans of the elements of the array held by a top-level property (Klaviyo's `data`, Meta's `entry`). */
export function propertyArraySpans(text: string, name: string): Span[] {
  const span = propertySpan(text, name);
  return span ? arrayElementSpans(text, span[0]) : [];
}
