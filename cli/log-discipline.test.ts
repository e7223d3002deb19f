import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { log, logStep, loggedEvents, setLogSink } from "../src/lib/log";
import { COMMON_FIELDS } from "../src/lib/log-events";

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
      log("info", { event: "webhook.accepted", source: "stripe", stream: "charges", pattern: "webhook", run_id: "r1", records: 3, ms: 12 });
      log("error", { event: "alert.failed", error: "line one\nline two", source: 'a"b' });
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

/** The text of a call's argument list, from just after `(` to its closing `)`. */
function argumentsOf(text: string, open: number): string {
  let depth = 1;
  let i = open;
  while (depth > 0 && i < text.length) {
    const c = text[i++];
    if (c === "(" || c === "{" || c === "[") depth++;
    else if (c === ")" || c === "}" || c === "]") depth--;
  }
  return text.slice(open, i - 1);
}

/** The `event:` expression of a fields object, up to the comma that ends it. */
function eventExpression(args: string): string | null {
  const m = /\{\s*event\s*:/.exec(args);
  if (!m) return null;
  let depth = 0;
  let i = m.index + m[0].length;
  const start = i;
  for (; i < args.length; i++) {
    const c = args[i];
    if (c === "(" || c === "{" || c === "[") depth++;
    else if (c === ")" || c === "}" || c === "]") {
      if (depth === 0) break;
      depth--;
    } else if (c === "," && depth === 0) break;
  }
  return args.slice(start, i);
}

/**
 * The event names one `event:` expression can take: its string literals, and its template
 * literals as patterns (`poll.${status}` → /^poll\..+$/) to be matched against the catalogue.
 */
function eventNames(expr: string): { names: string[]; patterns: RegExp[] } {
  const names = [...expr.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  const patterns = [...expr.matchAll(/`([^`]+)`/g)].map(
    (m) =>
      new RegExp(
        `^${(m[1] as string)
          .split(/\$\{[^}]*\}/)
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join(".+")}$`,
      ),
  );
  return { names, patterns };
}

describe("logs: every event carries the common fields (source, stream, pattern, run_id, records, ms, error)", () => {
  const files = sourceFiles().filter((f) => f.path !== LOGGER);
  const callers = files.filter((f) => /from "(\.\.\/)+(lib\/)?log"|from "\.\/lib\/log"/.test(f.text));
  const catalogue = Object.keys(loggedEvents);

  it("given every log() call in src/, then each event it logs is in the catalogue of src/lib/log-events.ts, and every catalogued event is logged somewhere", () => {
    const logged = new Set<string>();
    const offenders: string[] = [];
    for (const f of callers) {
      for (const m of f.text.matchAll(/(?<![.\w])log\(/g)) {
        const line = f.text.slice(0, m.index).split("\n").length;
        const expr = eventExpression(argumentsOf(f.text, (m.index ?? 0) + 4));
        if (expr === null) {
          offenders.push(`${f.path}:${line} (no event)`);
          continue;
        }
        const { names, patterns } = eventNames(expr);
        if (names.length === 0 && patterns.length === 0) offenders.push(`${f.path}:${line} (event is not a literal: ${expr.trim()})`);
        for (const name of names) {
          if (catalogue.includes(name)) logged.add(name);
          else offenders.push(`${f.path}:${line} logs ${name}, not in src/lib/log-events.ts`);
        }
        for (const pattern of patterns) {
          const matched = catalogue.filter((e) => pattern.test(e));
          if (matched.length === 0) offenders.push(`${f.path}:${line} logs ${pattern}, matching nothing in src/lib/log-events.ts`);
          for (const e of matched) logged.add(e);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(catalogue.filter((e) => !logged.has(e))).toEqual([]);
    expect(logged.size).toBeGreaterThan(60);
  });

  it("given a stepped stream's own events (ctx.log), then they go through logStep, which puts its run's source, stream, pattern and run_id on them", () => {
    const stepEvents = files.flatMap((f) => [...f.text.matchAll(/ctx\.log\(\s*"\w+",\s*"([^"]+)"/g)].map((m) => m[1] as string));
    expect(stepEvents.length).toBeGreaterThan(5);
    const wrapper = files.find((f) => f.path === "src/pollers/stepped-run.ts")?.text ?? "";
    expect(wrapper).toMatch(/log: \(level, event, extra = \{\}\) => logStep\(level, event, fields, extra\)/);
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      for (const event of stepEvents)
        logStep("info", event, { source: "s", stream: "t", pattern: "poll", run_id: "r" }, { source: undefined, account: "a" });
    } finally {
      setLogSink(undefined);
    }
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(o, line).toMatchObject({ source: "s", stream: "t", pattern: "poll", run_id: "r", records: null, ms: null, error: null });
    }
  });

  it("given every catalogued event logged with only the fields it must have, then each line carries all seven common fields: its own with values, the rest null", () => {
    const sample: Record<string, string | number> = {
      source: "src",
      stream: "str",
      pattern: "poll",
      run_id: "run-1",
      records: 3,
      ms: 9,
      error: "went wrong",
    };
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      for (const [event, required] of Object.entries(loggedEvents)) {
        const fields = Object.fromEntries(required.map((k) => [k, sample[k]]));
        log("info", { event, ...fields, extra_field: "kept" } as Parameters<typeof log>[1]);
      }
    } finally {
      setLogSink(undefined);
    }
    expect(lines).toHaveLength(catalogue.length);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      const required = loggedEvents[o.event as string] ?? [];
      expect(Object.keys(o).slice(0, 10), line).toEqual(["level", "time", "event", ...COMMON_FIELDS]);
      for (const k of COMMON_FIELDS) expect(o[k], `${o.event}.${k}`).toBe(required.includes(k) ? sample[k] : null);
      expect(o.extra_field).toBe("kept");
    }
  });

  it("given log()'s type, then an event without a field it must carry, or an event not in the catalogue, does not compile", () => {
    const snippet = [
      'import { log } from "./src/lib/log";',
      'log("error", { event: "poll.failed", source: "s", stream: "t", pattern: "poll", run_id: "r", error: "e" });',
      'log("error", { event: "poll.failed", source: "s", stream: "t", pattern: "poll", error: "e" });',
      'log("info", { event: "poll.brand_new", source: "s" });',
      'log("info", { event: "raw.written", source: "s", stream: "t", pattern: "poll", records: undefined, ms: 1 });',
    ].join("\n");
    const file = join(repo, "log-type-probe.ts");
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile;
    host.readFile = (name) => (name === file ? snippet : read(name));
    host.fileExists = (
      (exists) => (name: string) =>
        name === file || exists(name)
    )(host.fileExists);
    const program = ts.createProgram([file], options, host);
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0).line + 1);
    expect([...new Set(errors)]).toEqual([3, 4, 5]);
  });
});
