/**
 * Test fixtures shaped like a vendor's documented payloads: a builder per resource, `with…` for
 * what a test cares about, `text()` for the JSON the vendor would send. `withRaw` splices a JSON
 * literal as is (a 64-bit integer), which JSON.stringify of a JS value cannot produce.
 */
export class JsonBuilder<T extends Record<string, unknown>> {
  private readonly raws = new Map<string, string>();
  constructor(protected readonly fields: T) {}

  with(patch: Partial<T> & Record<string, unknown>): this {
    Object.assign(this.fields, patch);
    return this;
  }

  withRaw(field: string, literal: string): this {
    const marker = `__raw_${this.raws.size}__`;
    this.raws.set(marker, literal);
    (this.fields as Record<string, unknown>)[field] = marker;
    return this;
  }

  get<K extends keyof T>(field: K): T[K] {
    return this.fields[field];
  }

  text(): string {
    let out = JSON.stringify(this.fields);
    for (const [marker, literal] of this.raws) out = out.replace(`"${marker}"`, literal);
    return out;
  }
}

/** A JSON array of already-built records, spliced as text. */
export function arrayText(items: (string | { text(): string })[]): string {
  return `[${items.map((i) => (typeof i === "string" ? i : i.text())).join(",")}]`;
}
