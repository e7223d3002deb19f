/**
 * The demo vendor's data and page shapes, shared by the demo server (demo/app.ts) and the poll
 * engine's tests. Runtime-neutral: no Node or Workers APIs.
 */

export interface DemoItem {
  id: string;
  name: string;
  /** Larger than 2^53 on purpose: the raw zone must keep every digit. */
  amount_minor: string;
  updated_at: string;
}

export const DEMO_EPOCH = Date.parse("2026-11-20T00:00:00Z");

/**
 * `count` items whose updated_at values come in runs of `tie` equal timestamps, so that any page
 * size that is not a multiple of `tie` puts equal timestamps on both sides of a page boundary.
 */
export function demoItems(count: number, tie = 7, prefix = "item"): DemoItem[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}_${String(i + 1).padStart(5, "0")}`,
    name: `${prefix} ${i + 1}`,
    amount_minor: `9007199254740${String(993 + i)}`,
    updated_at: new Date(DEMO_EPOCH + Math.floor(i / tie) * 1000).toISOString(),
  }));
}

/** An item's JSON as the vendor writes it: `amount_minor` as a bare 64-bit integer. */
export function itemJson(item: DemoItem): string {
  return `{"id":${JSON.stringify(item.id)},"name":${JSON.stringify(item.name)},"amount_minor":${item.amount_minor},"updated_at":${JSON.stringify(item.updated_at)}}`;
}

export function itemsJson(items: readonly DemoItem[]): string {
  return `[${items.map(itemJson).join(",")}]`;
}

/** Vendor order: by updated_at, then id. */
export function sortItems(items: readonly DemoItem[]): DemoItem[] {
  return [...items].sort((a, b) => (a.updated_at === b.updated_at ? (a.id < b.id ? -1 : 1) : a.updated_at < b.updated_at ? -1 : 1));
}

export function updatedSince(items: readonly DemoItem[], since: string | null): DemoItem[] {
  return since ? items.filter((i) => i.updated_at >= since) : [...items];
}

// ── Page bodies, one builder per pagination style ─────────────────────────────────────────────

/** Cursor token: `{"data":[…],"has_more":true,"next_cursor":"…"}`. */
export function cursorPage(items: readonly DemoItem[], nextCursor: string | null): string {
  return `{"data":${itemsJson(items)},"has_more":${nextCursor !== null},"next_cursor":${JSON.stringify(nextCursor)}}`;
}

/** starting_after / ending_before: `{"object":"list","data":[…],"has_more":…}`. */
export function listPage(items: readonly DemoItem[], hasMore: boolean): string {
  return `{"object":"list","data":${itemsJson(items)},"has_more":${hasMore}}`;
}

/** Next link in the body: `{"results":[…],"links":{"next":"…"|null}}`. */
export function linkedPage(items: readonly DemoItem[], next: string | null): string {
  return `{"results":${itemsJson(items)},"links":{"next":${JSON.stringify(next)}}}`;
}

/** Offset/limit with a total: `{"items":[…],"total":n}`. */
export function offsetPage(items: readonly DemoItem[], total: number): string {
  return `{"items":${itemsJson(items)},"total":${total}}`;
}

/** Page number: `{"data":[…],"page":n,"total_pages":m}`. */
export function numberedPage(items: readonly DemoItem[], page: number, totalPages: number): string {
  return `{"data":${itemsJson(items)},"page":${page},"total_pages":${totalPages}}`;
}

/** A bare array (Link-header style puts the pagination in the headers). */
export function arrayPage(items: readonly DemoItem[]): string {
  return itemsJson(items);
}

export function linkHeader(next: string | null): Record<string, string> {
  return next ? { link: `<${next}>; rel="next"` } : {};
}

/** Opaque cursor tokens the demo hands out: the position in the filtered list, base64url. */
export function encodeToken(position: number): string {
  return btoa(`pos:${position}`).replace(/=+$/, "");
}

export function decodeToken(token: string): number | null {
  try {
    const match = /^pos:(\d+)$/.exec(atob(token));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export const DEMO_TOKEN = "demo-token-not-a-secret";
