#!/usr/bin/env node
// CPU profiles of a Worker *in workerd*: connects to `wrangler dev --inspector-port` over the Chrome
// DevTools Protocol, runs Profiler.start/stop around some load, and sums self time by function and
// by source file. wrangler bundles the Worker into one script with a `// src/x.ts` comment where each
// module starts; those comments map a sampled line back to the file it came from.
//
// As a library: `profileWhile(inspectorPort, async () => { ...drive load... })`.
// From the shell, against a running `wrangler dev --inspector-port 9229`:
//   node bench/lib/workerd-profile.mjs --port 9229 --seconds 10 [--out profile.cpuprofile]
// (open the .cpuprofile in Chrome DevTools' Performance panel for the flame chart).
import { writeFileSync } from "node:fs";

async function webSocketClass() {
  if (typeof globalThis.WebSocket === "function") return globalThis.WebSocket;
  // Node 20 has WebSocket only behind --experimental-websocket; `ws` is in node_modules through wrangler.
  return (await import("ws")).default;
}

/** A minimal CDP session: send(method, params) → result; events by name. */
export async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const WS = await webSocketClass();
  const socket = new WS(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = (e) => reject(new Error(`inspector: ${e.message ?? "connection failed"}`));
  });
  let nextId = 1;
  const pending = new Map();
  const listeners = new Map();
  socket.onmessage = (event) => {
    const msg = JSON.parse(typeof event.data === "string" ? event.data : event.data.toString());
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else p?.resolve(msg.result);
    } else for (const fn of listeners.get(msg.method) ?? []) fn(msg.params);
  };
  return {
    send(method, params = {}) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    on(method, fn) {
      listeners.set(method, [...(listeners.get(method) ?? []), fn]);
    },
    close: () => socket.close(),
  };
}

/** Line number (0-based) → module path, from the `// path/to/module.ts` comments esbuild leaves in a bundle. */
function moduleMap(source) {
  const starts = [];
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/ ([\w@./-]+\.(?:ts|tsx|js|mjs|cjs))$/.exec(lines[i]);
    if (m) starts.push([i, m[1].replace(/^(\.\.\/)+/, "").replace(/^.*node_modules\//, "node_modules/")]);
  }
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/**
 * Profiles the Worker while `drive()` runs. Returns the raw profile and a summary: total sampled
 * ms, ms by V8 category ((idle), (program), (garbage collector)), and self ms by function and file.
 */
export async function profileWhile(port, drive, { samplingIntervalUs = 200 } = {}) {
  const cdp = await connectInspector(port);
  const scripts = new Map();
  cdp.on("Debugger.scriptParsed", (s) => scripts.set(s.scriptId, s.url));
  try {
    await cdp.send("Debugger.enable").catch(() => {});
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    await cdp.send("Profiler.start");
    const driven = await drive();
    const { profile } = await cdp.send("Profiler.stop");
    const sources = new Map();
    for (const node of profile.nodes) {
      const id = node.callFrame.scriptId;
      if (!id || id === "0" || sources.has(id)) continue;
      const src = await cdp.send("Debugger.getScriptSource", { scriptId: id }).catch(() => null);
      sources.set(id, src ? moduleMap(src.scriptSource) : () => null);
    }
    await cdp.send("Profiler.disable");
    await cdp.send("Debugger.disable").catch(() => {});
    return { profile, summary: summarise(profile, sources, scripts), driven };
  } finally {
    cdp.close();
  }
}

export function summarise(profile, sources = new Map(), scripts = new Map()) {
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const d = deltas[i + 1] ?? deltas[i] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + Math.max(0, d));
  }
  const byFunction = new Map();
  const byFile = new Map();
  let totalUs = 0;
  const special = new Map();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const f = node.callFrame;
    if (/^\(.*\)$/.test(f.functionName) && !f.url) {
      special.set(f.functionName, (special.get(f.functionName) ?? 0) + us);
      continue;
    }
    const module = sources.get(f.scriptId)?.(f.lineNumber) ?? null;
    const file = module ?? (f.url ? (scripts.get(f.scriptId) ?? f.url).replace(/^.*\//, "") : "(native)");
    const fn = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const ms = (m) => [...m].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1000, categories: ms(special), byFunction: ms(byFunction), byFile: ms(byFile) };
}

/** Markdown tables of the top entries, each as ms and as a share of the non-idle time. */
export function summaryTables(summary, { top = 12, perRequest = 0 } = {}) {
  const idle = summary.categories.find((c) => c.name === "(idle)")?.ms ?? 0;
  const busy = summary.totalMs - idle;
  const fmt = (e) =>
    `| ${e.name.replaceAll("|", "\\|")} | ${e.ms.toFixed(0)} | ${((100 * e.ms) / busy).toFixed(1)} %${perRequest ? ` | ${((1000 * e.ms) / perRequest).toFixed(1)}` : ""} |`;
  const head = (what) => `| ${what} | self ms | of busy${perRequest ? " | µs / request" : ""} |\n|---|---|---|${perRequest ? "---|" : ""}`;
  const rest = summary.categories.filter((c) => c.name !== "(idle)");
  return [
    `Sampled ${summary.totalMs.toFixed(0)} ms, of which (idle) ${idle.toFixed(0)} ms; busy ${busy.toFixed(0)} ms.`,
    "",
    head("file (V8 categories as such)"),
    ...[...rest, ...summary.byFile]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map(fmt),
    "",
    head("function"),
    ...summary.byFunction.slice(0, top).map(fmt),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? dflt : process.argv[i + 1];
  };
  const port = Number(arg("port", "9229"));
  const seconds = Number(arg("seconds", "10"));
  const { profile, summary } = await profileWhile(port, () => new Promise((r) => setTimeout(r, seconds * 1000)));
  const out = arg("out", null);
  if (out) writeFileSync(out, JSON.stringify(profile));
  console.log(summaryTables(summary, { top: Number(arg("top", "25")) }));
}
