/**
 * Test-only wrappers that make the platform misbehave: each call of a wrapped method fails with a
 * configurable probability, in one of three ways — it fails before doing anything, it times out
 * (done or not, the caller cannot know), or it does its work and then throws. They are passed in
 * through `env`; production code never sees them.
 */
import { seeded } from "../../src/lib/seeded";
export type FaultMode = "fail" | "timeout" | "after";

export interface FaultPlan {
  rate: number;
  random: () => number;
  modes: FaultMode[];
  /** How many faults each `binding.method` produced, for the report. */
  injected: Record<string, number>;
}

export function faultPlan(rate: number, seed: number, modes: FaultMode[] = ["fail", "timeout", "after"]): FaultPlan {
  return { rate, random: seeded(seed), modes, injected: {} };
}

class InjectedFault extends Error {}

async function withFault<T>(plan: FaultPlan, name: string, call: () => Promise<T>): Promise<T> {
  if (plan.random() >= plan.rate) return call();
  plan.injected[name] = (plan.injected[name] ?? 0) + 1;
  const mode = plan.modes[Math.floor(plan.random() * plan.modes.length)] ?? "fail";
  if (mode === "fail") throw new InjectedFault(`injected failure in ${name}`);
  if (mode === "timeout") {
    if (plan.random() < 0.5) await call().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2));
    throw new InjectedFault(`injected timeout in ${name}`);
  }
  await call();
  throw new InjectedFault(`injected error after ${name} succeeded`);
}

function wrap<T extends object>(
  target: T,
  name: string,
  plan: FaultPlan,
  methods: string[],
  inner: Record<string, (v: any) => any> = {},
): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (typeof value !== "function") return value;
      const key = String(prop);
      if (methods.includes(key)) return (...args: unknown[]) => withFault(plan, `${name}.${key}`, () => value.apply(t, args));
      if (inner[key]) return (...args: unknown[]) => inner[key]?.(value.apply(t, args));
      return value.bind(t);
    },
  });
}

export function faultyR2(bucket: R2Bucket, plan: FaultPlan): R2Bucket {
  return wrap(bucket, "R2", plan, ["put", "get", "head", "list"]);
}

export function faultyQueue<T>(queue: Queue<T>, plan: FaultPlan): Queue<T> {
  return wrap(queue, "Queue", plan, ["send", "sendBatch"]);
}

/** D1: batch() faults as a whole (it is one transaction); a lone statement faults on its run. */
export function faultyD1(db: D1Database, plan: FaultPlan): D1Database {
  const statement = (s: D1PreparedStatement): D1PreparedStatement =>
    wrap(s, "D1.statement", plan, ["all", "run", "first", "raw"], { bind: statement });
  return wrap(db, "D1", plan, ["batch", "exec"], { prepare: statement });
}

/** The record ledger's shards: each RPC (read, write) faults like a binding call; the namespace itself does not. */
export function faultyLedger<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  plan: FaultPlan,
): DurableObjectNamespace<T> {
  const faulty = {
    idFromName: (name: string) => ns.idFromName(name),
    get(id: DurableObjectId) {
      const stub = ns.get(id) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      return new Proxy(stub, {
        get(t, prop) {
          if (prop !== "read" && prop !== "write") return Reflect.get(t, prop);
          return (...args: unknown[]) =>
            withFault(plan, `LEDGER.${prop}`, () => (t[prop] as (...a: unknown[]) => Promise<unknown>)(...args));
        },
      });
    },
  };
  return faulty as unknown as DurableObjectNamespace<T>;
}
