/**
 * A piece of envelope-line JSON as it appears inside its bundle, where the whole line is a JSON
 * string: `","key":"` becomes `\",\"key\":\"`. Built once per relation, transaction or millisecond
 * and copied into every record.
 */
export function lineFragment(json: string): Buffer {
  return Buffer.from(JSON.stringify(json).slice(1, -1), "utf8");
}

/** `JSON.stringify` of a string, for assembling fragments. */
export const J = (s: string): string => JSON.stringify(s);
