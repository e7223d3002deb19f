import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like Intercom's contact and conversation search answers (API 2.11). */
let counter = 0;
const T0 = Date.parse("2026-11-25T07:00:00Z") / 1000;

export function anIntercomContact(id = `6762f0${String(++counter).padStart(18, "0")}`) {
  return new JsonBuilder({
    type: "contact",
    id,
    workspace_id: "ecahpwf5",
    role: "user",
    email: `${id}@example.test`,
    created_at: T0 - 86_400,
    updated_at: T0,
  } as Record<string, unknown>);
}

export function anIntercomConversation(id = String(++counter)) {
  return new JsonBuilder({ type: "conversation", id, created_at: T0 - 3600, updated_at: T0, state: "open", open: true } as Record<
    string,
    unknown
  >);
}

/** A search answer: contacts in `data` (type list), conversations in `conversations` (type conversation.list). */
export function searchAnswer(kind: "contacts" | "conversations", items: { text(): string }[], next?: string, total = items.length): string {
  const pages = `{"type":"pages","page":1,"per_page":150,"total_pages":${next ? 2 : 1}${next ? `,"next":{"page":2,"starting_after":"${next}"}` : ""}}`;
  return kind === "contacts"
    ? `{"type":"list","data":${arrayText(items)},"total_count":${total},"pages":${pages}}`
    : `{"type":"conversation.list","conversations":${arrayText(items)},"total_count":${total},"pages":${pages}}`;
}

export function searchBody(since: number, perPage: number, after?: string) {
  return {
    query: { field: "updated_at", operator: ">", value: since },
    sort: { field: "updated_at", order: "ascending" },
    pagination: { per_page: perPage, ...(after ? { starting_after: after } : {}) },
  };
}

export function intercomError(code: string, message: string): string {
  return JSON.stringify({ type: "error.list", request_id: "000on3bhr4j3o1lj7c0", errors: [{ code, message }] });
}

export const INTERCOM_T0 = T0;
