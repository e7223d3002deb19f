import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signV4 } from "./lib/sigv4.mjs";
import { RawZoneFixture } from "./test-helpers/raw-zone-fixture";

const DOCK = join(import.meta.dirname, "dock.mjs");

function dock(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DOCK, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const rowsOf = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

const root = mkdtempSync(join(tmpdir(), "dock-query-"));
const lake = join(root, "lake");
const zone = new RawZoneFixture(lake);
const BIG = "12345678901234567890";

beforeAll(async () => {
  // stripe.charges: a webhook retried (same event, so the same _dock.id, landing twice), and two
  // versions of ch_2 received in the same second (the version decides).
  await zone.batch("stripe", "charges", "webhook", "a1", [
    { key: "ch_1", version: "evt_1", op: "event", at: "2026-11-25T07:00:00.000Z" },
    { key: "ch_2", version: "evt_2", op: "event", at: "2026-11-25T07:00:05.000Z", payload: { json: `{"id":"ch_2","amount":${BIG}}` } },
  ]);
  await zone.batch("stripe", "charges", "webhook", "b2", [
    { key: "ch_1", version: "evt_1", op: "event", at: "2026-11-25T07:10:00.000Z" },
    { key: "ch_1", version: "evt_3", op: "event", at: "2026-11-25T07:10:00.000Z" },
    { key: "ch_2", version: "evt_4", op: "event", at: "2026-11-25T07:10:30.000Z" },
    { key: "ch_2", version: "evt_5", op: "event", at: "2026-11-25T07:10:30.000Z" },
  ]);
  // demo.items: two versions of item_1 in different hours; the older one seen again later
  // (a backfill) is the same record, so it must not become "latest"; item_2 ends deleted.
  await zone.batch("demo", "items", "poll", "c3", [
    { key: "item_1", version: "2026-11-25T07:59:00Z|aaaa", at: "2026-11-25T08:00:00.000Z" },
    { key: "item_2", version: "2026-11-25T07:59:30Z|bbbb", at: "2026-11-25T08:00:00.000Z" },
  ]);
  await zone.batch("demo", "items", "poll", "d4", [
    { key: "item_1", version: "2026-11-25T09:00:00Z|cccc", at: "2026-11-25T09:30:00.000Z" },
    { key: "item_2", version: "2026-11-25T09:10:00Z|dddd", op: "delete", at: "2026-11-25T09:30:00.000Z" },
  ]);
  await zone.batch("demo", "items", "reconcile", "e5", [
    { key: "item_1", version: "2026-11-25T07:59:00Z|aaaa", at: "2026-11-25T10:00:00.000Z" },
  ]);
  // demo.plans: a full refresh's snapshot partition (no dt/hr; snapshot=<run>).
  await zone.snapshot("demo", "plans", "snap_1", [
    { key: "plan_a", version: "p1", op: "snapshot", at: "2026-11-25T11:00:00.000Z" },
    { key: "plan_b", version: "p1", op: "snapshot", at: "2026-11-25T11:00:00.000Z" },
  ]);
  // A body that is not JSON is kept as a string in `raw`.
  await zone.batch("acme", "events", "webhook", "f6", [
    { key: "msg_1", version: "m1", op: "event", at: "2026-11-25T12:00:00.000Z", payload: { raw: "plain text, not JSON" } },
  ]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("dock query over a raw zone the test wrote", () => {
  it("given the written zone, when counted, then raw holds every line written, per source and stream", async () => {
    const out = await dock([
      "query",
      "--dir",
      lake,
      "--format",
      "json",
      "SELECT source, stream, count(*) AS n FROM raw GROUP BY ALL ORDER BY ALL",
    ]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const written = new Map<string, number>();
    for (const { meta } of zone.lines)
      written.set(`${meta.source}.${meta.stream}`, (written.get(`${meta.source}.${meta.stream}`) ?? 0) + 1);
    expect(rowsOf(out.stdout).map((r) => [`${r.source}.${r.stream}`, r.n])).toEqual([...written.entries()].sort());
    expect(zone.lines.length).toBe(14);
  });

  it("given the written zone, then each row carries its _dock fields and the Hive partitions of the key it came from", async () => {
    const out = await dock([
      "query",
      "--dir",
      lake,
      "--format",
      "json",
      "SELECT id, source, stream, pattern, key, version, op, strftime(received_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS received_at, run_id, dt::VARCHAR AS dt, hr, snapshot, file FROM raw",
    ]);
    expect(out.code).toBe(0);
    const rows = rowsOf(out.stdout);
    const got = rows.map((r) => ({
      meta: {
        id: r.id,
        source: r.source,
        stream: r.stream,
        pattern: r.pattern,
        key: r.key,
        version: r.version,
        op: r.op,
        received_at: r.received_at,
        run_id: r.run_id,
      },
      key: r.file.slice(lake.length + 1),
    }));
    const order = (a: { key: string; meta: { id: string; received_at: string } }) => `${a.key} ${a.meta.id} ${a.meta.received_at}`;
    expect(got.sort((a, b) => order(a).localeCompare(order(b)))).toEqual([...zone.lines].sort((a, b) => order(a).localeCompare(order(b))));
    for (const r of rows) {
      const hourly = /\/dt=(\d{4}-\d{2}-\d{2})\/hr=(\d{2})\//.exec(r.file);
      if (hourly) expect([r.dt, r.hr, r.snapshot]).toEqual([hourly[1], Number(hourly[2]), null]);
      else expect([r.dt, r.hr, r.snapshot]).toEqual([null, null, /\/snapshot=([^/]+)\//.exec(r.file)?.[1]]);
    }
    expect(rows.filter((r) => r.snapshot === "snap_1")).toHaveLength(2);
  });

  it("given --distinct, then raw keeps one row per _dock.id, its first landing", async () => {
    const out = await dock([
      "query",
      "--dir",
      lake,
      "--distinct",
      "--format",
      "json",
      "SELECT id, strftime(received_at, '%H:%M') AS at FROM raw",
    ]);
    expect(out.code).toBe(0);
    const rows = rowsOf(out.stdout);
    expect(rows).toHaveLength(new Set(zone.lines.map((l) => l.meta.id)).size);
    expect(rows).toHaveLength(12);
    const first = (key: string, version: string) =>
      rows.find((r) => r.id === zone.lines.find((l) => l.meta.key === key && l.meta.version === version)?.meta.id)?.at;
    expect(first("ch_1", "evt_1")).toBe("07:00");
    expect(first("item_1", "2026-11-25T07:59:00Z|aaaa")).toBe("08:00");
  });

  it("given --latest, then raw keeps one row per key at its newest version: latest received_at, then greatest version; a re-seen older state does not win; a delete is the latest state", async () => {
    const out = await dock([
      "query",
      "--dir",
      lake,
      "--latest",
      "--format",
      "json",
      "SELECT source, stream, key, version, op FROM raw ORDER BY ALL",
    ]);
    expect(out.code).toBe(0);
    expect(rowsOf(out.stdout)).toEqual([
      { source: "acme", stream: "events", key: "msg_1", version: "m1", op: "event" },
      { source: "demo", stream: "items", key: "item_1", version: "2026-11-25T09:00:00Z|cccc", op: "upsert" },
      { source: "demo", stream: "items", key: "item_2", version: "2026-11-25T09:10:00Z|dddd", op: "delete" },
      { source: "demo", stream: "plans", key: "plan_a", version: "p1", op: "snapshot" },
      { source: "demo", stream: "plans", key: "plan_b", version: "p1", op: "snapshot" },
      { source: "stripe", stream: "charges", key: "ch_1", version: "evt_3", op: "event" },
      { source: "stripe", stream: "charges", key: "ch_2", version: "evt_5", op: "event" },
    ]);
    const counted = await dock(["query", "--dir", lake, "--latest", "--format", "csv", "SELECT count(*) AS n FROM raw"]);
    expect(counted.stdout).toBe("n\n7\n");
  });

  it("given a vendor's integer beyond 2^53 and a body that is not JSON, then data keeps the integer's digits and raw keeps the text", async () => {
    const out = await dock([
      "query",
      "--dir",
      lake,
      "--format",
      "json",
      "SELECT data, raw FROM raw WHERE key IN ('ch_2', 'msg_1') AND version IN ('evt_2', 'm1') ORDER BY key",
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`"data":{"id":"ch_2","amount":${BIG}}`);
    expect(rowsOf(out.stdout)[1]).toEqual({ data: null, raw: "plain text, not JSON" });
    const extracted = await dock([
      "query",
      "--dir",
      lake,
      "--format",
      "csv",
      "SELECT data->>'$.amount' AS amount FROM raw WHERE version = 'evt_2'",
    ]);
    expect(extracted.stdout).toBe(`amount\n${BIG}\n`);
  });

  it("given SQL DuckDB cannot parse, then it says so and exits non-zero", async () => {
    const out = await dock(["query", "--dir", lake, "SELEC count(*) FROM raw"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/^dock: Parser Error/);
  });

  it("given an empty folder, then raw is empty rather than an error", async () => {
    const empty = mkdtempSync(join(root, "empty-"));
    const out = await dock(["query", "--dir", empty, "--format", "csv", "SELECT count(*) AS n FROM raw"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("n\n0\n");
  });
});

/**
 * R2's S3 API as `dock query --s3` meets it: path-style ListObjectsV2 (pages of 3) and GetObject,
 * each request's SigV4 signature checked; anything else is a 400 and recorded.
 */
describe("dock query --s3 (a bucket through its S3 API)", () => {
  const KEY_ID = "test-key-id";
  const SECRET = "test-secret-access-key";
  const BUCKET = "loading-dock-raw";
  const objects = new Map<string, Buffer>();
  const unexpected: string[] = [];
  const gets: string[] = [];
  let server: Server;
  let endpoint = "";

  const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const fail = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} (test S3)</Message></Error>`);
  };
  function signedRight(req: IncomingMessage): boolean {
    const auth = String(req.headers.authorization ?? "");
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/auto\/s3\/aws4_request,SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
    const date = String(req.headers["x-amz-date"] ?? "");
    if (!m || m[1] !== KEY_ID || !/^\d{8}T\d{6}Z$/.test(date) || m[2] !== date.slice(0, 8)) return false;
    const now = new Date(
      `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
    );
    const expected = signV4({
      method: "GET",
      url: `${endpoint}${req.url}`,
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      region: "auto",
      now,
    });
    return expected.authorization === auth;
  }

  beforeAll(async () => {
    for (const [key, body] of zone.objects) objects.set(key, body);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://s3.test");
      if (req.method !== "GET" || !url.pathname.startsWith(`/${BUCKET}`)) {
        unexpected.push(`${req.method} ${req.url}`);
        return fail(res, 400, "InvalidRequest");
      }
      if (!signedRight(req)) return fail(res, 403, "SignatureDoesNotMatch");
      if (url.pathname === `/${BUCKET}` && url.searchParams.get("list-type") === "2") {
        const prefix = url.searchParams.get("prefix") ?? "";
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const from = Number(url.searchParams.get("continuation-token") ?? "0");
        const page = keys.slice(from, from + 3);
        const more = from + 3 < keys.length;
        res.writeHead(200, { "content-type": "application/xml" });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>${more}</IsTruncated>${page
            .map(
              (k) => `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)?.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
            )
            .join("")}${more ? `<NextContinuationToken>${from + 3}</NextContinuationToken>` : ""}</ListBucketResult>`,
        );
      }
      if (url.pathname.startsWith(`/${BUCKET}/`) && url.search === "") {
        const key = decodeURIComponent(url.pathname.slice(BUCKET.length + 2));
        const body = objects.get(key);
        if (!body) return fail(res, 404, "NoSuchKey");
        gets.push(key);
        res.writeHead(200, { "content-length": body.length });
        return res.end(body);
      }
      unexpected.push(`${req.method} ${req.url}`);
      return fail(res, 400, "InvalidRequest");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const creds = { R2_ACCESS_KEY_ID: KEY_ID, R2_SECRET_ACCESS_KEY: SECRET, CLOUDFLARE_ACCOUNT_ID: "" };
  const count = (cache: string, env = creds) =>
    dock(
      [
        "query",
        "--s3",
        "--bucket",
        BUCKET,
        "--s3-endpoint",
        endpoint,
        "--cache",
        cache,
        "--format",
        "csv",
        "SELECT count(*) AS n FROM raw",
      ],
      env,
    );

  it("given the bucket's S3 endpoint and keys, when queried, then every object under raw/ is copied and counted; a second query fetches nothing again; an object gone from the bucket leaves the copy", async () => {
    const cache = join(root, "s3-cache");
    const first = await count(cache);
    expect(first.stderr).toContain(`pulled ${zone.objects.size} new objects from ${endpoint}/${BUCKET} (0 already in ${cache})`);
    expect(first.stdout).toBe(`n\n${zone.lines.length}\n`);
    expect([...gets].sort()).toEqual([...zone.objects.keys()].sort());
    expect(unexpected).toEqual([]);

    gets.length = 0;
    const again = await count(cache);
    expect(again.stderr).toContain(`pulled 0 new objects from ${endpoint}/${BUCKET} (${zone.objects.size} already in ${cache})`);
    expect(again.stdout).toBe(`n\n${zone.lines.length}\n`);
    expect(gets).toEqual([]);

    const gone = [...objects.keys()].find((k) => k.includes("/stream=items/") && k.includes("reconcile-"));
    expect(gone).toBeDefined();
    objects.delete(gone as string);
    const after = await count(cache);
    expect(after.stderr).toContain("1 no longer there removed");
    expect(after.stdout).toBe(`n\n${zone.lines.filter((l) => l.key !== gone).length}\n`);
    expect(existsSync(join(cache, gone as string))).toBe(false);
    objects.set(gone as string, zone.objects.get(gone as string) as Buffer);
  });

  it("given a wrong secret, when queried, then the S3 refusal is printed, the exit code is not 0, and nothing is copied", async () => {
    const cache = join(root, "s3-wrong");
    const out = await count(cache, { ...creds, R2_SECRET_ACCESS_KEY: "not-the-secret" });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("HTTP 403 SignatureDoesNotMatch");
    expect(existsSync(cache)).toBe(false);
  });

  it("given no S3 keys, then it names the variables to set", async () => {
    const out = await count(join(root, "s3-none"), { R2_ACCESS_KEY_ID: "", R2_SECRET_ACCESS_KEY: "", CLOUDFLARE_ACCOUNT_ID: "" });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY");
  });
});
