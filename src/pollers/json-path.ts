import { arrayElementSpans, propertySpan, type Span } from "../envelope/json-spans";

/** The value at a dotted path ("links.next"); "" is the value itself. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === "") return value;
  let current = value;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Where the value at a dotted path sits in the JSON text; null when absent. A numeric part indexes an array ("0"). */
export function spanAt(text: string, path: string, from = 0): Span | null {
  let span: Span = [from, text.length];
  if (path === "") return span;
  for (const part of path.split(".")) {
    const next =
      text
        .slice(span[0], span[0] + 64)
        .trimStart()
        .startsWith("[") && /^\d+$/.test(part)
        ? (arrayElementSpans(text, span[0])[Number(part)] ?? null)
        : propertySpan(text, part, span[0]);
    if (!next) return null;
    span = next;
  }
  return span;
}

/** The spans of the records of a page held in the array at `path`. */
export function arraySpansAt(text: string, path: string): Span[] {
  const span = spanAt(text, path);
  if (!span) throw new SyntaxError(`no array at ${path === "" ? "the top level" : `"${path}"`}`);
  return arrayElementSpans(text, span[0]);
}

/**
 * A scalar field of one record as text, read from the record's own JSON so that a 64-bit integer
 * id keeps every digit. Strings come back unquoted; null/absent come back undefined.
 */
export function scalarTextAt(text: string, span: Span, path: string): string | undefined {
  const at = spanAt(text, path, span[0]);
  if (!at) return undefined;
  const raw = text.slice(at[0], at[1]);
  if (raw.startsWith('"')) return JSON.parse(raw) as string;
  if (raw === "null" || raw.startsWith("{") || raw.startsWith("[")) return undefined;
  return raw;
}
