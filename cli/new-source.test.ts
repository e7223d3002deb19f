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
  for (const entry of ["src", "test", "migrations", "vitest.config.ts", "wrangler.toml", "tsconfig.json", "package.json"]) {
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
