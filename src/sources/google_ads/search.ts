import { arrayElementSpans, type Span } from "../../envelope/json-spans";
import { spanAt } from "../../pollers/json-path";
import type { StepContext } from "../../pollers/types";

export interface SearchPage {
  text: string;
  rows: Span[];
  nextPageToken?: string;
}

/**
 * One page of `googleAds:search` (10,000 rows a page, fixed by the API): POST the GAQL query and
 * the page token. A page without `results` is empty. Rows stay byte spans of the answer.
 */
export async function searchPage(ctx: StepContext, customer: string, query: string, pageToken?: string): Promise<SearchPage> {
  const { text } = await ctx.fetch({
    method: "POST",
    url: `customers/${customer}/googleAds:search`,
    query: {},
    body: JSON.stringify(pageToken ? { query, pageToken } : { query }),
  });
  let json: { nextPageToken?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (err) {
    throw new MalformedAnswer(
      `customer ${customer}: the answer is not JSON (${(err as Error).message}); first bytes: ${text.slice(0, 120)}`,
    );
  }
  const at = spanAt(text, "results");
  const rows = at ? arrayElementSpans(text, at[0]) : [];
  const token = typeof json.nextPageToken === "string" && json.nextPageToken !== "" ? json.nextPageToken : undefined;
  return { text, rows, nextPageToken: token };
}

export class MalformedAnswer extends Error {}
