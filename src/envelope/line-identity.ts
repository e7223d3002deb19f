import { sha256HexSync, sha256StartsWithHex } from "../lib/sha256-sync";

/** What a bundle says its lines are: each line's `_dock` must say the same. */
export interface LineHead {
  source: string;
  stream: string;
  pattern: string;
}

/** `_dock` opens every envelope line, its identity first and in this order (envelopeLine writes it so). */
const IDENTITY = ["id", "source", "stream", "pattern", "key", "version"] as const;
const OPEN = '{"_dock":';

class LineRefused extends Error {}

/**
 * Why an envelope line prepared by someone else (a sidecar) may not be written as record `id` of a
 * bundle of `head`, or null when it may. The raw zone keeps the line as it came, and a lake engine
 * reads its `_dock`, so the line must be one envelope on one line (no line break), opening with
 * `_dock` whose id, source, stream, pattern, key and version come first (as envelopeLine writes
 * them), none of them repeated further on (whichever copy an engine kept, it reads the one checked),
 * and no second `_dock`; the id must be the record's, the source, stream and pattern the bundle's,
 * and the id must be dockId(source, stream, key, version) — so a forged id cannot stand in for
 * another record's and make dedupe drop the genuine one.
 *
 * Reads `_dock` only, without JSON.parse (a whole-line parse costs more than the digest), and the
 * payload after it only when that spells `_dock` (plainly or escaped): the payload's own syntax is
 * the producer's (the sidecar's encoders are held to envelopeLine's output by their tests). A line
 * accepted here is therefore either unreadable or read with exactly the identity checked.
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
  if (line.charCodeAt(line.length - 1) !== CLOSE_BRACE) throw new LineRefused("the line does not end with the } of its envelope");
  let i = OPEN.length;
  for (let f = 0; f < IDENTITY.length; f++) {
    if (!line.startsWith(LEADS[f] as string, i)) {
      const name = IDENTITY[f] as string;
      throw new LineRefused(
        `_dock must begin with ${IDENTITY.map((n) => JSON.stringify(n)).join(", ")}; ${JSON.stringify(name)} is not where it belongs`,
      );
    }
    i += (LEADS[f] as string).length;
    if (line.charCodeAt(i) !== QUOTE) throw new LineRefused(`_dock.${IDENTITY[f]} is not a string right after its key`);
    starts[f] = i;
    i = stringEnd(line, i);
    ends[f] = i;
  }
  // Compared in place where the line writes them plainly (no slice per record).
  if (!fieldIs(line, ID, id))
    throw new LineRefused(`_dock.id ${JSON.stringify(field(line, ID))} is not the record's id ${JSON.stringify(id)}`);
  sameAsBundle(line, SOURCE, head.source);
  sameAsBundle(line, STREAM, head.stream);
  sameAsBundle(line, PATTERN, head.pattern);
  const hashed = `${head.source}\n${head.stream}\n${field(line, KEY)}\n${field(line, VERSION)}`;
  if (!sha256StartsWithHex(hashed, id))
    throw new LineRefused(`_dock.id ${id} is not dockId(source, stream, key, version) = ${sha256HexSync(hashed, 32)}`);

  // The rest of _dock: no member repeats the identity.
  i = members(line, i, IN_DOCK, "_dock");
  // What follows can hold no second _dock when it spells none, plainly or escaped: nothing to walk.
  if (line.indexOf("_dock", i) === -1 && line.indexOf("\\u", i) === -1) return;
  // Otherwise the rest of the envelope is walked: no second _dock, and nothing after the object.
  i = members(line, i, AT_TOP, "the envelope");
  if (skipWhitespace(line, i) !== line.length) throw new LineRefused("the line goes on after its envelope");
}

/**
 * The key and version of an envelope line written by envelopeLine (or accepted by lineIdentityError):
 * read from `_dock`'s leading members without parsing the line; null when the line does not open so.
 */
export function lineKeyVersion(line: string): { key: string; version: string } | null {
  if (!line.startsWith(OPEN)) return null;
  let i = OPEN.length;
  const values: string[] = [];
  for (let f = 0; f < IDENTITY.length; f++) {
    const lead = LEADS[f] as string;
    if (!line.startsWith(lead, i) || line.charCodeAt(i + lead.length) !== QUOTE) return null;
    i += lead.length;
    const end = stringEnd(line, i);
    values.push(stringValue(line, i, end));
    i = end;
  }
  return { key: values[4] as string, version: values[5] as string };
}

/** `{"id":`, `,"source":`, …: what opens each identity member. */
const LEADS = IDENTITY.map((name, f) => `${f === 0 ? "{" : ","}"${name}":`);
const [ID, SOURCE, STREAM, PATTERN, KEY, VERSION] = [0, 1, 2, 3, 4, 5] as const;
/** Where each identity string of the line being checked sits, its quotes included. */
const starts = new Int32Array(IDENTITY.length);
const ends = new Int32Array(IDENTITY.length);

/** Identity field `f` of the line, unescaped. */
function field(line: string, f: number): string {
  return stringValue(line, starts[f] as number, ends[f] as number);
}

function sameAsBundle(line: string, f: number, expected: string): void {
  if (fieldIs(line, f, expected)) return;
  const name = IDENTITY[f] as string;
  throw new LineRefused(`_dock.${name} ${JSON.stringify(field(line, f))} is not the bundle's ${name} ${JSON.stringify(expected)}`);
}

/** Whether identity field `f` of the line is `expected`: in place when written plainly, else unescaped. */
function fieldIs(line: string, f: number, expected: string): boolean {
  const start = (starts[f] as number) + 1;
  const end = (ends[f] as number) - 1;
  if (end - start === expected.length && line.startsWith(expected, start)) return true;
  return hasBackslash(line, start, end) && field(line, f) === expected;
}

/** Keys an object may not hold again: as names, and as they are written without escapes. */
interface Taken {
  names: ReadonlySet<string>;
  quoted: readonly string[];
}
const takenOf = (names: readonly string[]): Taken => ({ names: new Set(names), quoted: names.map((n) => JSON.stringify(n)) });
const IN_DOCK = takenOf(IDENTITY);
const AT_TOP = takenOf(["_dock"]);

/**
 * From `i` inside an object after a member, walks its remaining members to just past its `}`,
 * refusing any whose key is taken (compared in place; a key written with escapes is unescaped).
 */
function members(line: string, i: number, taken: Taken, what: string): number {
  for (;;) {
    i = skipWhitespace(line, i);
    const c = line.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) throw new SyntaxError(`expected , or } at ${i}`);
    i = skipWhitespace(line, i + 1);
    if (line.charCodeAt(i) !== QUOTE) throw new SyntaxError(`expected a key at ${i}`);
    const end = stringEnd(line, i);
    if (hasBackslash(line, i + 1, end - 1)) {
      const name = stringValue(line, i, end);
      if (taken.names.has(name)) throw new LineRefused(`${what} holds ${JSON.stringify(name)} twice`);
    } else {
      for (let q = 0; q < taken.quoted.length; q++) {
        const quoted = taken.quoted[q] as string;
        if (quoted.length === end - i && line.startsWith(quoted, i)) throw new LineRefused(`${what} holds ${quoted} twice`);
      }
    }
    i = skipWhitespace(line, end);
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

function hasBackslash(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === BACKSLASH) return true;
  return false;
}

/** The string in text[i, end) (its quotes included), unescaped as a lake engine's parser would; a bad escape throws. */
function stringValue(text: string, i: number, end: number): string {
  const inner = text.slice(i + 1, end - 1);
  return inner.indexOf("\\") === -1 ? inner : (JSON.parse(text.slice(i, end)) as string);
}

/** The index just after the JSON string whose opening quote is at i: the next quote not escaped. */
function stringEnd(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q === -1) throw new SyntaxError("unterminated string");
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Closers still expected while walking a value, innermost last (grown when a value nests deeper). */
let closers = new Uint8Array(256);

/** The index just after the value that starts at i. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return stringEnd(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    // A } where a ] belongs is refused, as a parser would.
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) j = stringEnd(text, j) - 1;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === closers.length) {
          const grown = new Uint8Array(depth * 2);
          grown.set(closers);
          closers = grown;
        }
        closers[depth++] = c + 2; // { → }, [ → ]
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0 || closers[--depth] !== c) throw new SyntaxError(`unbalanced ${String.fromCharCode(c)} at ${j}`);
        if (depth === 0) return j + 1;
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
