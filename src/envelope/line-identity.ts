import { sha256HexSync } from "../lib/sha256-sync";

/** What a bundle says its lines are: each line's `_dock` must say the same. */
export interface LineHead {
  source: string;
  stream: string;
  pattern: string;
}

/** `_dock` opens every envelope line, its identity first and in this order (envelopeLine writes it so). */
const IDENTITY = ["id", "source", "stream", "pattern", "key", "version"] as const;
const IDENTITY_KEYS: ReadonlySet<string> = new Set(IDENTITY);
const OPEN = '{"_dock":';

class LineRefused extends Error {}

/**
 * Why an envelope line prepared by someone else (a sidecar) may not be written as record `id` of a
 * bundle of `head`, or null when it may. The raw zone keeps the line as it came, and a lake engine
 * reads its `_dock`, so the line must be exactly one envelope: one JSON object on one line, opening
 * with `_dock` whose id, source, stream, pattern, key and version come first (as envelopeLine writes
 * them), none of them repeated further on (whichever copy an engine kept, it reads the one checked),
 * no second `_dock`; the id must be the record's, the source, stream and pattern the bundle's, and
 * the id must be dockId(source, stream, key, version) — so a forged id cannot stand in for another
 * record's and make dedupe drop the genuine one.
 *
 * Reads the line once, without JSON.parse (a whole-line parse cost more than the digest): it
 * expects text a JSON parser accepts, and anything it cannot place is refused, not guessed.
 */
export function lineIdentityError(line: string, id: string, head: LineHead): string | null {
  try {
    check(line, id, head);
    return null;
  } catch (err) {
    if (err instanceof LineRefused) return err.message;
    if (err instanceof SyntaxError) return `the line is not one JSON envelope: ${err.message}`;
    throw err;
  }
}

function check(line: string, id: string, head: LineHead): void {
  // The raw writer joins lines with \n: a break inside one would smuggle in a line of its own.
  if (line.indexOf("\n") !== -1 || line.indexOf("\r") !== -1) throw new LineRefused("the line holds a line break");
  if (!line.startsWith(OPEN)) throw new LineRefused('the line does not start with {"_dock":');
  const values: string[] = [];
  let i = OPEN.length;
  for (const name of IDENTITY) {
    const lead = values.length === 0 ? "{" : ",";
    if (!line.startsWith(`${lead}"${name}":`, i)) {
      throw new LineRefused(
        `_dock must begin with ${IDENTITY.map((n) => JSON.stringify(n)).join(", ")}; ${JSON.stringify(name)} is not where it belongs`,
      );
    }
    i += name.length + 4;
    if (line.charCodeAt(i) !== QUOTE) throw new LineRefused(`_dock.${name} is not a string right after its key`);
    i = readString(line, i);
    values.push(lastString);
  }
  const [lineId, source, stream, pattern, key, version] = values as [string, string, string, string, string, string];
  if (lineId !== id) throw new LineRefused(`_dock.id ${JSON.stringify(lineId)} is not the record's id ${JSON.stringify(id)}`);
  if (source !== head.source)
    throw new LineRefused(`_dock.source ${JSON.stringify(source)} is not the bundle's source ${JSON.stringify(head.source)}`);
  if (stream !== head.stream)
    throw new LineRefused(`_dock.stream ${JSON.stringify(stream)} is not the bundle's stream ${JSON.stringify(head.stream)}`);
  if (pattern !== head.pattern)
    throw new LineRefused(`_dock.pattern ${JSON.stringify(pattern)} is not the bundle's pattern ${JSON.stringify(head.pattern)}`);
  const expected = sha256HexSync(`${source}\n${stream}\n${key}\n${version}`, 32);
  if (expected !== id) throw new LineRefused(`_dock.id ${id} is not dockId(source, stream, key, version) = ${expected}`);

  // The rest of _dock: no member repeats the identity.
  i = members(line, i, IDENTITY_KEYS, "_dock");
  // The rest of the envelope: no second _dock, and nothing after the object.
  i = members(line, i, TOP_LEVEL, "the envelope");
  if (skipWhitespace(line, i) !== line.length) throw new LineRefused("the line goes on after its envelope");
}

const TOP_LEVEL: ReadonlySet<string> = new Set(["_dock"]);

/**
 * From `i` inside an object after a member, walks its remaining members to just past its `}`,
 * refusing any whose key is in `taken`.
 */
function members(line: string, i: number, taken: ReadonlySet<string>, what: string): number {
  for (;;) {
    i = skipWhitespace(line, i);
    const c = line.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) throw new SyntaxError(`expected , or } at ${i}`);
    i = skipWhitespace(line, i + 1);
    if (line.charCodeAt(i) !== QUOTE) throw new SyntaxError(`expected a key at ${i}`);
    i = readString(line, i);
    if (taken.has(lastString)) throw new LineRefused(`${what} holds ${JSON.stringify(lastString)} twice`);
    i = skipWhitespace(line, i);
    if (line.charCodeAt(i) !== COLON) throw new SyntaxError(`expected : at ${i}`);
    i = valueEnd(line, skipWhitespace(line, i + 1));
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The string read last by readString, unescaped. */
let lastString = "";

/** Reads the JSON string whose opening quote is at i into lastString; returns the index after it. */
function readString(text: string, i: number): number {
  let escaped = false;
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) {
      escaped = true;
      j++;
    } else if (c === QUOTE) {
      // JSON.parse unescapes exactly as a lake engine's parser would, and refuses a bad escape.
      lastString = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
      return j + 1;
    }
  }
  throw new SyntaxError("unterminated string");
}

function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  throw new SyntaxError("unterminated string");
}

/** The index just after the value that starts at i. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return stringEnd(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    // The closers still expected, innermost last: a } where a ] belongs is refused, as a parser would.
    const closers: number[] = [];
    for (let j = i; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) j = stringEnd(text, j) - 1;
      else if (c === OPEN_BRACE) closers.push(CLOSE_BRACE);
      else if (c === OPEN_BRACKET) closers.push(CLOSE_BRACKET);
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (closers.pop() !== c) throw new SyntaxError(`unbalanced ${String.fromCharCode(c)} at ${j}`);
        if (closers.length === 0) return j + 1;
      }
    }
    throw new SyntaxError("unterminated object or array");
  }
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === 0x20 || c === 0x09) break;
  }
  if (j === i) throw new SyntaxError(`expected a value at ${i}`);
  return j;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}
