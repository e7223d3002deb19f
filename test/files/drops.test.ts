import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signFileUrl } from "../../src/files/auth";
import worker from "../../src/index";
import { listKeys } from "../helpers/raw-zone";
import { filesEnv, freshSource, ledgerRows, putFile, streamEnvelopes, TOKEN, waitParsed } from "./helpers";

const csv = "id,name\n1,a\n2,b\n";
const now = () => Math.floor(Date.now() / 1000);

describe("PUT /files/:source/:name", () => {
  it("given no token, a wrong token or another scheme, then 401 and nothing is stored", async () => {
    const source = freshSource();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer wrong-token" },
      { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
    ]) {
      const res = await putFile(source, "a.csv", csv, { token: null, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
    }
    expect(await listKeys(`files/source=${source}/`)).toEqual([]);
    expect(await ledgerRows(source)).toEqual([]);
  });

  it("given a source with no files token, then it does not exist (404), with or without a token", async () => {
    const res = await putFile("nofiles", "a.csv", csv, { env: { ...env } as never });
    expect(res.status).toBe(404);
  });

  it("given a signed URL, then it is accepted until it expires, and refused when tampered, expired or used for another file", async () => {
    const source = freshSource();
    const url = new URL(await signFileUrl("https://dock.example", TOKEN, source, "signed.csv", now() + 600));
    const ok = await putFile(source, "signed.csv", csv, { token: null, query: url.search });
    expect(ok.status).toBe(201);

    const expired = new URL(await signFileUrl("https://dock.example", TOKEN, source, "signed2.csv", now() - 1));
    expect((await putFile(source, "signed2.csv", csv, { token: null, query: expired.search })).status).toBe(401);
    const other = await putFile(source, "other.csv", csv, { token: null, query: url.search });
    expect(other.status).toBe(401);
    const tampered = url.search.replace(/signature=([0-9a-f])/, (_, c: string) => `signature=${c === "0" ? "1" : "0"}`);
    expect((await putFile(source, "signed.csv", "x\n", { token: null, query: tampered })).status).toBe(401);
    const spaced = new URL(await signFileUrl("https://dock.example", TOKEN, source, "March report (final).csv", now() + 600));
    expect(spaced.pathname).toBe(`/files/${source}/March%20report%20(final).csv`);
    expect((await putFile(source, "March report (final).csv", "id\n3\n", { token: null, query: spaced.search })).status).toBe(201);
    const tooLong = new URL(await signFileUrl("https://dock.example", TOKEN, source, "far.csv", now() + 30 * 86400));
    expect((await putFile(source, "far.csv", csv, { token: null, query: tooLong.search })).status).toBe(401);
  });

  it("given names that climb out, hide or carry control characters, then 400 with the reason and nothing stored", async () => {
    const source = freshSource();
    for (const name of [
      "../../etc/passwd",
      "a/b.csv",
      "..",
      ".hidden.csv",
      "a\\b.csv",
      "x\u0000.csv",
      "tab\there.csv",
      "a..b.csv",
      "",
      "invoice\u202Egpj.csv", // a right-to-left override that disguises the extension in a listing
      "zero\u200Bwidth.csv",
      "line\u2028break.csv",
      "\uE000private.csv",
      "-dash-first.csv",
      "x".repeat(201),
    ]) {
      const res = await putFile(source, name, csv);
      expect([400, 404, 405], JSON.stringify(name)).toContain(res.status);
      if (res.status === 400) expect(((await res.json()) as { error: string }).error).toMatch(/file name/);
    }
    // An encoded slash reaches the route as part of the name and is refused there.
    const encoded = await putFile(source, "a/b.csv", csv);
    expect(encoded.status).toBe(400);
    expect(await listKeys(`files/source=${source}/`)).toEqual([]);
  });

  it("given names with letters beyond ASCII and punctuation a shell would read, then they land under a percent-encoded key and keep their name everywhere else", async () => {
    const source = freshSource();
    const today = new Date().toISOString().slice(0, 10);
    const cases = [
      { name: "Größe März_2026-11-25.csv", segment: "Gr%C3%B6%C3%9Fe M%C3%A4rz_2026-11-25.csv", stream: "grosse_marz" },
      { name: "Q3 report #2 & co's 100%.csv", segment: "Q3 report %232 %26 co%27s 100%25.csv", stream: "q3_report_2_co_s_100" },
      { name: "売上_2026-11.csv", segment: "%E5%A3%B2%E4%B8%8A_2026-11.csv", stream: "file" },
    ];
    for (const c of cases) {
      const res = await putFile(source, c.name, `id,name\n${c.segment.length},${c.name}\n`);
      const body = (await res.json()) as { key: string; stream: string };
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(body.key).toBe(`files/source=${source}/${today}/${c.segment}`);
      expect(decodeURIComponent(body.key.split("/").at(-1) ?? "")).toBe(c.name);
      await waitParsed(body.key);
    }
    const ledger = await ledgerRows(source);
    expect(ledger.map((r) => r.name).sort()).toEqual(cases.map((c) => c.name).sort());
    const [marz] = await streamEnvelopes(source, "grosse_marz", 1);
    expect(marz?._dock).toMatchObject({ key: "Größe März_2026-11-25.csv#2" });
    expect(marz?.data).toEqual({ id: String(cases[0]!.segment.length), name: "Größe März_2026-11-25.csv" });
    // A later version of the same name lands beside it, encoded the same way.
    const v2 = (await (await putFile(source, cases[0]!.name, "id\n2\n")).json()) as { key: string };
    expect(v2.key).toMatch(/\/v=\d{8}T\d{6}Z-[0-9a-f]{8}\/Gr%C3%B6%C3%9Fe M%C3%A4rz_2026-11-25\.csv$/);
  });

  it("given no Content-Length or one over the limit, then 411 or 413 before anything is read", async () => {
    const source = freshSource();
    const stream = new Blob([csv]).stream();
    expect((await putFile(source, "nolen.csv", stream)).status).toBe(411);
    const small = filesEnv(source, { FILES_MAX_BYTES: "10" });
    expect((await putFile(source, "big.csv", csv, { env: small })).status).toBe(413);
    const perSource = filesEnv(source, { FILES_CONFIG: JSON.stringify({ [source]: { maxBytes: 5 } }) });
    expect((await putFile(source, "big.csv", csv, { env: perSource })).status).toBe(413);
    expect(await listKeys(`files/source=${source}/`)).toEqual([]);
  });

  it("given a body shorter than its Content-Length, then 400 and no object, no ledger row", async () => {
    const source = freshSource();
    const res = await putFile(source, "short.csv", new Blob([csv]).stream(), { length: csv.length + 10 });
    expect(res.status).toBe(400);
    expect(await listKeys(`files/source=${source}/`)).toEqual([]);
    expect(await ledgerRows(source)).toEqual([]);
  });

  it("given the same file dropped twice, then the second drop is a duplicate: one object, one ledger row, rows ingested once", async () => {
    const source = freshSource();
    const first = await putFile(source, "orders.csv", csv);
    expect(first.status).toBe(201);
    const landed = (await first.json()) as { key: string; sha256: string };
    expect(landed.key).toBe(`files/source=${source}/${new Date().toISOString().slice(0, 10)}/orders.csv`);
    const again = await putFile(source, "orders.csv", csv);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate", key: landed.key, sha256: landed.sha256 });
    const renamed = await putFile(source, "orders-copy.csv", csv);
    expect(((await renamed.json()) as { status: string }).status).toBe("duplicate");
    await waitParsed(landed.key);
    expect(await listKeys(`files/source=${source}/`)).toEqual([landed.key]);
    expect(await ledgerRows(source)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await streamEnvelopes(source, "orders", 2)).toHaveLength(2);
  });

  it("given a new version of a file with the same name on the same day, then both versions are kept and both are ingested", async () => {
    const source = freshSource();
    const v1 = (await (await putFile(source, "stock.csv", "sku,qty\nA,1\n")).json()) as { key: string };
    const v2res = await putFile(source, "stock.csv", "sku,qty\nA,2\n");
    expect(v2res.status).toBe(201);
    const v2 = (await v2res.json()) as { key: string };
    expect(v2.key).not.toBe(v1.key);
    expect(v2.key).toMatch(new RegExp(`^files/source=${source}/\\d{4}-\\d{2}-\\d{2}/v=\\d{8}T\\d{6}Z-[0-9a-f]{8}/stock\\.csv$`));
    await waitParsed(v1.key);
    await waitParsed(v2.key);
    const rows = await streamEnvelopes(source, "stock", 2);
    expect(rows.map((r) => r.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { sku: "A", qty: "1" },
      { sku: "A", qty: "2" },
    ]);
    expect(new Set(rows.map((r) => r._dock.id)).size).toBe(2);
    expect(new TextDecoder().decode(await (await env.RAW.get(v1.key))!.arrayBuffer())).toBe("sku,qty\nA,1\n");
  });

  it("given a file type with no parser, then it is kept as sent and its run fails loudly instead of vanishing", async () => {
    const source = freshSource();
    const res = await putFile(source, "scan.pdf", "%PDF-1.4 ...");
    expect(res.status).toBe(201);
    const { key, run_id } = (await res.json()) as { key: string; run_id: string };
    expect((await ledgerRows(source))[0]).toMatchObject({ key, status: "unparsed", format: "unknown" });
    expect(await env.DB.prepare("SELECT status, error FROM runs WHERE id = ?").bind(run_id).first()).toMatchObject({
      status: "failed",
      error: expect.stringContaining("no parser"),
    });
  });

  it("given FILES_CONFIG rules, then the stream, format and delimiter come from the matching rule", async () => {
    const source = freshSource();
    const config = {
      [source]: { rules: [{ match: "EXPORT_*.dat", stream: "ledger_entries", format: "csv", delimiter: "|", encoding: "utf8" }] },
    };
    const stepEnv = filesEnv(source, { FILES_CONFIG: JSON.stringify(config) });
    const res = await putFile(source, "EXPORT_20261125.dat", "a|b\n1|2\n", { env: stepEnv });
    const { key } = (await res.json()) as { key: string };
    await waitParsed(key);
    expect((await streamEnvelopes(source, "ledger_entries", 1))[0]?.data).toEqual({ a: "1", b: "2" });
  });
});

describe("R2 event notifications on the drop prefix", () => {
  const event = (key: string, size: number, action = "PutObject") => ({
    account: "3f4b7e3dcab231cbfdaa90a6a28bd548",
    action,
    bucket: "loading-dock-raw",
    object: { key, size, eTag: "c846ff7a18f28c2e262116d6e8719ef0" },
    eventTime: new Date().toISOString(),
  });

  it("given a partner object written under drop/<source>/, then it is copied to files/ and parsed like a PUT, once", async () => {
    const source = freshSource();
    const dropKey = `drop/${source}/payouts_2026-11-25.csv`;
    await env.RAW.put(dropKey, csv);
    const batch = createMessageBatch("loading-dock-files", [
      { id: "e1", timestamp: new Date(), attempts: 1, body: event(dropKey, csv.length) },
      { id: "e2", timestamp: new Date(), attempts: 1, body: event(dropKey, csv.length) },
    ]);
    await worker.queue(batch, env);
    const [row] = await ledgerRows(source);
    expect(row).toMatchObject({ origin: "r2_event", name: "payouts_2026-11-25.csv", stream: "payouts" });
    expect(await ledgerRows(source)).toHaveLength(1);
    await waitParsed(row!.key);
    expect((await streamEnvelopes(source, "payouts", 2)).map((r) => r.data)).toEqual([
      { id: "1", name: "a" },
      { id: "2", name: "b" },
    ]);
    expect(new TextDecoder().decode(await (await env.RAW.get(row!.key))!.arrayBuffer())).toBe(csv);
  });

  it("given events outside the drop prefix, deletes, nested paths or unsafe names, then they are acknowledged and nothing lands", async () => {
    const source = freshSource();
    const bodies = [
      event(`files/source=${source}/2026-11-25/x.csv`, 3),
      event(`drop/${source}/x.csv`, 3, "DeleteObject"),
      event(`drop/${source}/nested/x.csv`, 3),
      event(`drop/${source}/..x.csv`, 3),
      { not: "an event" },
    ];
    const acked: string[] = [];
    const batch = createMessageBatch(
      "loading-dock-files",
      bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    for (const m of batch.messages) {
      const ack = m.ack.bind(m);
      m.ack = () => {
        acked.push(m.id);
        ack();
      };
    }
    await worker.queue(batch, env);
    expect(acked).toHaveLength(bodies.length);
    expect(await ledgerRows(source)).toEqual([]);
  });
});
