// CPU time of the workerd processes a `wrangler dev` runs, from /proc (Linux): the Worker's own
// workerd (the Worker, its bindings' local simulators such as the queue broker) and wrangler's
// ProxyWorker workerd that fronts the dev port. CPU ms per request = Δ(utime + stime) / requests.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // CLK_TCK is 100 on Linux x86-64

function children(pid) {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {}
  }
  return out;
}

function descendants(pid) {
  const all = [];
  for (const child of children(pid)) all.push(child, ...descendants(child));
  return all;
}

/**
 * The processes of a `wrangler dev`: `worker` is the workerd running the Worker, `proxy` the workerd
 * of wrangler's ProxyWorker that listens on the dev port, `wrangler` its node process (which prints
 * a line per request and the Worker's console output).
 */
export function workerdProcesses(wranglerPid, devPort) {
  const found = { worker: null, proxy: null, wrangler: null };
  for (const pid of descendants(wranglerPid)) {
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (cmd.some((a) => a.endsWith("wrangler-dist/cli.js"))) found.wrangler = pid;
    if (!cmd[0]?.endsWith("/workerd")) continue;
    if (cmd.some((a) => a === `--socket-addr=entry=127.0.0.1:${devPort}`)) found.proxy = pid;
    else found.worker = pid;
  }
  if (!found.worker) throw new Error(`no Worker workerd under pid ${wranglerPid}`);
  return found;
}

/** utime + stime of a process (all its threads), in ms. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Runs `fn` and returns its result with the CPU ms each named process spent meanwhile. */
export async function measureCpu(pids, fn) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuMs(pid) : 0]));
  const result = await fn();
  const spent = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuMs(pid) - before[k] : 0]));
  return { result, cpu: spent };
}
