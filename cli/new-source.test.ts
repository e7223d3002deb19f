import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { addToRegistry, scaffoldSource } from "./lib/new-source.mjs";

const repo = resolve(import.meta.dirname, "..");

/** A copy of the checkout (node_modules linked), so scaffolding never touches the real tree. */
function copyOfRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "dock-new-source-"));
  for (const entry of ["src", "test", "migrations", "vitest.config.ts", "wrangler.toml", "tsconfig.json", "package.json", "biome.json"]) {
    cpSync(join(repo, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

describe("dock new-source", () => {
  const copy = copyOfRepo();
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("given a new name, when scaffolded by the CLI, then the folder and registry line exist and the source's own tests pass in workerd", () => {
    const cli = spawnSync("node", [join(repo, "cli/dock.mjs"), "new-source", "widget_co", "--root", copy], { encoding: "utf8" });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("added widget_co to src/sources/registry.ts");
    for (const f of ["index.ts", "signature.ts", "events.ts", "fixtures.ts", "widget_co.test.ts"])
      expect(existsSync(join(copy, "src/sources/widget_co", f)), f).toBe(true);
    const registry = readFileSync(join(copy, "src/sources/registry.ts"), "utf8");
    expect(registry).toContain('import { widgetCo } from "./widget_co";');
    expect(registry).toMatch(/\n {2}widgetCo,\n\];/);

    const run = spawnSync("node_modules/.bin/vitest", ["run", "--project", "worker", "src/sources/widget_co"], {
      cwd: copy,
      encoding: "utf8",
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    });
    const out = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(run.status, out).toBe(0);
    expect(out).toMatch(/Tests\s+4 passed \(4\)/);

    const tsc = spawnSync("node_modules/.bin/tsc", ["--noEmit", "-p", "."], { cwd: copy, encoding: "utf8" });
    const mine = tsc.stdout.split("\n").filter((l) => l.includes("src/sources/widget_co") || l.includes("src/sources/registry.ts"));
    expect(mine).toEqual([]);
  });

  it("given --rest (bearer by default) and --rest --auth oauth, when scaffolded by the CLI, then each is a declarative REST source in the registry and its fixture tests pass in workerd", () => {
    const bearer = spawnSync("node", [join(repo, "cli/dock.mjs"), "new-source", "acme_api", "--rest", "--root", copy], {
      encoding: "utf8",
    });
    expect(bearer.status, bearer.stderr).toBe(0);
    expect(bearer.stdout).toContain("added acme_api to src/sources/registry.ts");
    expect(bearer.stdout).toContain("ACME_API_API_BASE=…");
    expect(bearer.stdout).toContain("ACME_API_API_TOKEN=…");
    expect(bearer.stdout).toContain("npm run dock -- test-read acme_api.items");
    const oauth = spawnSync(
      "node",
      [join(repo, "cli/dock.mjs"), "new-source", "billing_api", "--rest", "--auth", "oauth", "--stream", "invoices", "--root", copy],
      { encoding: "utf8" },
    );
    expect(oauth.status, oauth.stderr).toBe(0);
    expect(oauth.stdout).toContain("BILLING_API_CLIENT_SECRET=…");
    for (const f of ["index.ts", "fixtures.ts", "acme_api.test.ts"])
      expect(existsSync(join(copy, "src/sources/acme_api", f)), f).toBe(true);
    const index = readFileSync(join(copy, "src/sources/acme_api/index.ts"), "utf8");
    expect(index).toContain("defineRestSource({");
    expect(index).toContain('baseUrl: { env: "ACME_API_API_BASE" }');
    expect(index).toContain('auth: { type: "bearer", token: { env: "ACME_API_API_TOKEN" } }');
    expect(readFileSync(join(copy, "src/sources/billing_api/index.ts"), "utf8")).toContain('type: "oauth2_client_credentials"');
    const registry = readFileSync(join(copy, "src/sources/registry.ts"), "utf8");
    expect(registry).toContain('import { acmeApi } from "./acme_api";');
    expect(registry).toContain('import { billingApi } from "./billing_api";');

    const run = spawnSync("node_modules/.bin/vitest", ["run", "--project", "worker", "src/sources/acme_api", "src/sources/billing_api"], {
      cwd: copy,
      encoding: "utf8",
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    });
    const out = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(run.status, out).toBe(0);
    expect(out).toMatch(/Test Files\s+2 passed \(2\)/);
    expect(out).toMatch(/Tests\s+12 passed \(12\)/);

    const tsc = spawnSync("node_modules/.bin/tsc", ["--noEmit", "-p", "."], { cwd: copy, encoding: "utf8" });
    const mine = tsc.stdout.split("\n").filter((l) => /src\/sources\/(acme_api|billing_api)/.test(l));
    expect(mine).toEqual([]);
    const lint = spawnSync("node_modules/.bin/biome", ["check", "src/sources/acme_api", "src/sources/billing_api"], {
      cwd: copy,
      encoding: "utf8",
    });
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);
  }, 400_000);

  it("given --rest with an unknown --auth or a bad stream name, then it refuses and writes nothing", () => {
    const bad = spawnSync("node", [join(repo, "cli/dock.mjs"), "new-source", "bad_auth", "--rest", "--auth", "kerberos", "--root", copy], {
      encoding: "utf8",
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("bearer, api_key, basic, oauth");
    expect(() => scaffoldSource(copy, "bad_stream", { rest: true, stream: "Bad Stream" })).toThrow(/--stream/);
    expect(existsSync(join(copy, "src/sources/bad_auth"))).toBe(false);
    expect(existsSync(join(copy, "src/sources/bad_stream"))).toBe(false);
    expect(readFileSync(join(copy, "src/sources/registry.ts"), "utf8")).not.toMatch(/bad_auth|bad_stream|badAuth|badStream/);
  });

  it("given a taken or invalid name, then it refuses and writes nothing", () => {
    expect(() => scaffoldSource(copy, "stripe")).toThrow(/already exists/);
    expect(() => scaffoldSource(copy, "Bad-Name")).toThrow(/must match/);
    expect(() => scaffoldSource(copy, "../etc")).toThrow(/must match/);
    expect(existsSync(join(copy, "src/sources/Bad-Name"))).toBe(false);
  });

  it("given a registry, then the new source is one import and one entry, nothing else changes", () => {
    const before = 'import { a } from "./a";\nimport { b } from "./b";\n\nexport const sources = [\n  a,\n  b,\n];\n';
    expect(addToRegistry(before, "new_one")).toBe(
      'import { a } from "./a";\nimport { b } from "./b";\nimport { newOne } from "./new_one";\n\nexport const sources = [\n  a,\n  b,\n  newOne,\n];\n',
    );
  });
});
