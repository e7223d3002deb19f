import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { listKeys } from "../helpers/raw-zone";
import { freshSource, ledgerRows, putFile, streamEnvelopes, waitParsed } from "./helpers";

/** A CSV of `rows` rows whose every value names its variant, so a mixed or cut file shows. */
function variant(tag: string, rows: number): string {
  const lines = ["id,variant,filler"];
  for (let i = 1; i <= rows; i++) lines.push(`${i},${tag},${tag.repeat(40)}`);
  return `${lines.join("\n")}\n`;
}

interface Answer {
  status: string;
  key: string;
  sha256: string;
}

async function answer(res: Response): Promise<Answer & { http: number }> {
  return { http: res.status, ...((await res.json()) as Answer) };
}

describe("uploads of one file name at the same time", () => {
  it("given three different files PUT under one name at once, when they land, then each is kept whole under its own key and parsed exactly once; a repeat of one is a duplicate", async () => {
    const source = freshSource();
    const rows = 2000;
    const bodies = { A: variant("A", rows), B: variant("B", rows), C: variant("C", rows) };
    const answers = await Promise.all(Object.values(bodies).map(async (body) => answer(await putFile(source, "stock.csv", body))));

    expect(answers.map((a) => [a.http, a.status])).toEqual([
      [201, "landed"],
      [201, "landed"],
      [201, "landed"],
    ]);
    const keys = answers.map((a) => a.key);
    expect(new Set(keys).size).toBe(3);
    expect((await listKeys(`files/source=${source}/`)).sort()).toEqual([...keys].sort());
    // Each key holds exactly the bytes its own upload sent.
    for (const [i, body] of Object.values(bodies).entries()) {
      expect(await (await env.RAW.get(keys[i]!))!.text(), keys[i]).toBe(body);
    }

    for (const key of keys) expect(await waitParsed(key)).toMatchObject({ status: "parsed", rows, bad_rows: 0 });
    const ledger = await ledgerRows(source);
    expect(ledger.map((r) => r.key).sort()).toEqual([...keys].sort());

    const envelopes = await streamEnvelopes(source, "stock", 3 * rows);
    await new Promise((r) => setTimeout(r, 1500));
    const settled = await streamEnvelopes(source, "stock", 3 * rows);
    expect(settled).toHaveLength(3 * rows);
    expect(envelopes).toHaveLength(3 * rows);
    for (const [i, tag] of Object.keys(bodies).entries()) {
      const ofFile = settled.filter((e) => e._dock.file === keys[i]);
      expect(ofFile).toHaveLength(rows);
      expect(ofFile.every((e) => (e.data as { variant: string }).variant === tag)).toBe(true);
    }

    const again = await answer(await putFile(source, "stock.csv", bodies.B));
    expect(again).toMatchObject({ http: 200, status: "duplicate", key: keys[1], sha256: answers[1]!.sha256 });
    expect((await listKeys(`files/source=${source}/`)).sort()).toEqual([...keys].sort());
    expect(await ledgerRows(source)).toHaveLength(3);
  });

  it("given the same bytes PUT twice at once, then one lands, the other is its duplicate, and one object is kept", async () => {
    const source = freshSource();
    const body = variant("D", 500);
    const answers = await Promise.all([1, 2].map(async () => answer(await putFile(source, "same.csv", body))));
    expect(answers.map((a) => a.status).sort()).toEqual(["duplicate", "landed"]);
    expect(answers[0]!.key).toBe(answers[1]!.key);
    expect(await listKeys(`files/source=${source}/`)).toEqual([answers[0]!.key]);
    expect(await waitParsed(answers[0]!.key)).toMatchObject({ status: "parsed", rows: 500 });
    expect(await ledgerRows(source)).toHaveLength(1);
  });
});
