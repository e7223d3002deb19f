import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

const FILE = join(import.meta.dirname, "..", "RESULTS.md");

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

/** Replaces (or appends) the section `## <title>` of bench/RESULTS.md, leaving the others alone. */
export function writeSection(title, body) {
  let text;
  try {
    text = readFileSync(FILE, "utf8");
  } catch {
    text =
      "# Benchmark results\n\nWritten by `npm run bench`; each section by its own benchmark. Numbers are from the machine named in the section.\n";
  }
  const heading = `## ${title}`;
  const section = `${heading}\n\n_${new Date().toISOString().slice(0, 10)} — ${machine()}_\n\n${body.trim()}\n`;
  const start = text.indexOf(`\n${heading}\n`);
  if (start === -1) text = `${text.trimEnd()}\n\n${section}`;
  else {
    const next = text.indexOf("\n## ", start + heading.length + 2);
    text = `${text.slice(0, start + 1)}${section}${next === -1 ? "" : `\n${text.slice(next + 1)}`}`;
  }
  writeFileSync(FILE, `${text.trimEnd()}\n`);
}
