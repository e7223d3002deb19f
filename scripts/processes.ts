import { readdirSync, readFileSync } from "node:fs";

/** One live process as /proc shows it (zombies count as gone: they hold no resources, only an exit status). */
export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  command: string;
}

export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // ended while we looked
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after the last ")".
    const close = stat.lastIndexOf(")");
    const [state, ppid, pgid] = stat.slice(close + 2).split(" ");
    if (state === "Z" || state === "X") continue;
    out.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid), command: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return out;
}

/** Every process below `root` (children, their children, …) and `root` itself. */
export function processTree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((p) => p.pid === root);
  for (const parent of found) for (const p of all) if (p.ppid === parent.pid) found.push(p);
  return found;
}

/** Of `tree` (taken earlier), what still runs: the same pids, or anything left in their process groups. */
export function survivors(tree: Proc[]): Proc[] {
  const pids = new Set(tree.map((p) => p.pid));
  const groups = new Set(tree.map((p) => p.pgid));
  const own = processes().find((p) => p.pid === process.pid)?.pgid;
  if (own !== undefined) groups.delete(own); // never the test runner's own group
  return processes().filter((p) => pids.has(p.pid) || groups.has(p.pgid));
}
