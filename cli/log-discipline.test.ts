import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { log, setLogSink } from "../src/lib/log";

const repo = resolve(import.meta.dirname, "..");
const LOGGER = "src/lib/log.ts";

function sourceFiles(): { path: string; text: string }[] {
  return readdirSync(join(repo, "src"), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.(ts|tsx)$/.test(d.name) && !/\.test\.tsx?$/.test(d.name) && !d.name.endsWith(".d.ts"))
    .map((d) => {
      const path = relative(repo, join(d.parentPath, d.name));
      return { path, text: readFileSync(join(repo, path), "utf8") };
    });
}

/** Line numbers of matches, for a failure message that points at the code. */
function where(text: string, re: RegExp): number[] {
  return [...text.matchAll(re)].map((m) => text.slice(0, m.index).split("\n").length);
}

describe("logs: one JSON object per line, through src/lib/log.ts", () => {
  const files = sourceFiles();

  it("given the Worker's source, then nothing but the logger touches console", () => {
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .filter((f) => f.path !== LOGGER)
      .flatMap((f) => where(f.text, /\bconsole\s*\.\s*\w+/g).map((line) => `${f.path}:${line}`));
    expect(offenders).toEqual([]);
  });

  it("given every call of log(), then its fields are an object literal with an event (no free text)", () => {
    const offenders: string[] = [];
    let calls = 0;
    for (const f of files.filter((x) => x.path !== LOGGER && /from "(\.\.\/)+(lib\/)?log"|from "\.\/lib\/log"/.test(x.text))) {
      for (const m of f.text.matchAll(/(?<![.\w])log\(/g)) {
        const args = f.text.slice((m.index ?? 0) + 4, (m.index ?? 0) + 400);
        const second = /^\s*[^,]+?,\s*(\S)/.exec(args);
        const line = f.text.slice(0, m.index).split("\n").length;
        calls++;
        if (second?.[1] !== "{") offenders.push(`${f.path}:${line}`);
        else if (!/^\s*[^,]+?,\s*\{\s*(event\b|\.\.\.)/.test(args)) offenders.push(`${f.path}:${line} (no event first)`);
      }
    }
    expect(offenders).toEqual([]);
    expect(calls).toBeGreaterThan(30);
  });

  it("given any fields, then log writes exactly one line of JSON with level, time, event and the common fields typed", () => {
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      log("info", { event: "test.one", source: "stripe", stream: "charges", pattern: "webhook", run_id: "r1", records: 3, ms: 12 });
      log("error", { event: "test.two", error: "line one\nline two", source: 'a"b' });
    } finally {
      setLogSink(undefined);
    }
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain("\n");
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(o).slice(0, 3)).toEqual(["level", "time", "event"]);
      expect(new Date(o.time as string).toISOString()).toBe(o.time);
    }
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "info",
      source: "stripe",
      stream: "charges",
      pattern: "webhook",
      run_id: "r1",
      records: 3,
      ms: 12,
    });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: "error", error: "line one\nline two", source: 'a"b' });
  });
});
