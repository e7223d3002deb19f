import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module
import { runDeploy } from "./lib/deploy.mjs";
// @ts-expect-error plain JS module
import { runDestroy } from "./lib/destroy.mjs";
import { captureIO, type FakeAccount, type FakeState, fakeAccount, makeRoot, readState, repo } from "./test-helpers/deploy-fixture";

/** `dock destroy` against the fake wrangler: what deploy created goes, the raw zone is never deleted silently. */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One real deploy to a fake account; each test starts from a copy of its result. */
let template: { root: string; state: object };
beforeAll(async () => {
  const root = makeRoot();
  const account = fakeAccount();
  dirs.push(root, account.dir);
  await runDeploy({ root, options: {}, env: account.env, io: captureIO().io });
  template = { root, state: { ...readState(account), calls: [] } };
});

/** A checkout deployed to a fake account; `objects` is what the raw zone's bucket then holds. */
function deployed(objects: number) {
  const root = makeRoot();
  for (const file of ["wrangler.deploy.jsonc", ".deploy.vars"]) copyFileSync(join(template.root, file), join(root, file));
  const state = structuredClone(template.state) as FakeState;
  state.buckets[0]!.objects = objects;
  const account = fakeAccount(state);
  dirs.push(root, account.dir);
  return { root, account };
}

async function destroy(root: string, account: FakeAccount, options: object, answers?: string[]) {
  const capture = captureIO(answers);
  const result = await runDestroy({ root, options, env: account.env, io: capture.io });
  return { result, ...capture };
}

const deletions = (calls: string[][]) => calls.filter((c) => c.includes("delete") || c.includes("add")).map((c) => c.join(" "));

describe("dock destroy against a fake account", () => {
  it("given a deployment whose bucket holds objects, when destroy --yes runs, then the Worker, the notification, every queue and DLQ and the D1 database go, the bucket is kept and said so, and the generated config is removed", async () => {
    const { root, account } = deployed(1234);
    expect(readState(account).workers["loading-dock"]!.deployments).toBe(1);
    const before = readState(account).calls.length;
    const { text } = await destroy(root, account, { yes: true });
    const state = readState(account);
    expect(deletions(state.calls.slice(before))).toEqual([
      "delete loading-dock --force",
      "r2 bucket notification delete loading-dock-raw --queue loading-dock-files",
      "queues delete loading-dock-ingest",
      "queues delete loading-dock-ingest-dlq",
      "queues delete loading-dock-jobs",
      "queues delete loading-dock-jobs-dlq",
      "queues delete loading-dock-files",
      "queues delete loading-dock-files-dlq",
      "d1 delete loading-dock --skip-confirmation",
    ]);
    expect(state.workers).toEqual({});
    expect(state.queues).toEqual([]);
    expect(state.d1).toEqual([]);
    expect(state.buckets.map((b) => b.name)).toEqual(["loading-dock-raw"]);
    expect(text()).toContain(
      "= R2 bucket loading-dock-raw kept: it holds 1234 objects (the raw zone). To delete it too: dock destroy --delete-bucket",
    );
    expect(existsSync(join(root, "wrangler.deploy.jsonc"))).toBe(false);
    expect(existsSync(join(root, ".deploy.vars"))).toBe(true);

    // Again: nothing is left to delete, and nothing is called that deletes.
    const mark = readState(account).calls.length;
    const again = await destroy(root, account, { yes: true });
    expect(deletions(readState(account).calls.slice(mark))).toEqual([]);
    expect(again.text()).toContain("Nothing of loading-dock is left on the account.");
  });

  it("given an empty bucket, when destroy --yes runs, then the bucket is deleted too", async () => {
    const { root, account } = deployed(0);
    await destroy(root, account, { yes: true });
    const state = readState(account);
    expect(state.buckets).toEqual([]);
    expect(deletions(state.calls).at(-1)).toBe("r2 bucket delete loading-dock-raw");
  });

  it("given --delete-bucket and a bucket with objects, then a lifecycle rule expiring every object is added (once), and the bucket goes on a later run once it is empty", async () => {
    const { root, account } = deployed(10);
    const { text } = await destroy(root, account, { yes: true, deleteBucket: true });
    expect(readState(account).buckets[0]!.lifecycle).toEqual([{ name: "dock-destroy-expire-all", prefix: "", days: 1 }]);
    expect(text()).toContain("run `dock destroy --delete-bucket` again once it is empty");

    const again = await destroy(root, account, { yes: true, deleteBucket: true });
    expect(readState(account).buckets[0]!.lifecycle).toHaveLength(1);
    expect(again.text()).toContain("expiring under the rule dock-destroy-expire-all");

    const state = readState(account);
    state.buckets[0]!.objects = 0;
    writeFileSync(account.state, JSON.stringify(state));
    await destroy(root, account, { yes: true, deleteBucket: true });
    expect(readState(account).buckets).toEqual([]);
  });

  it("given no --yes and no terminal, when destroy runs from the CLI, then it refuses and deletes nothing", async () => {
    const { root, account } = deployed(0);
    const before = readState(account).calls.length;
    const run = spawnSync(process.execPath, [join(repo, "cli/dock.mjs"), "destroy", "--root", root], {
      env: account.env,
      encoding: "utf8",
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("confirm by typing the Worker's name in a terminal, or pass --yes. Nothing was deleted.");
    expect(deletions(readState(account).calls.slice(before))).toEqual([]);
    expect(readState(account).workers["loading-dock"]).toBeDefined();
  });

  it("given a terminal, when the typed name is wrong nothing is deleted, and when it is right everything is", async () => {
    const { root, account } = deployed(0);
    const before = readState(account).calls.length;
    await expect(destroy(root, account, {}, ["loading-dok"])).rejects.toThrow('"loading-dok" is not loading-dock: nothing was deleted.');
    expect(deletions(readState(account).calls.slice(before))).toEqual([]);

    const { questions, text } = await destroy(root, account, {}, ["loading-dock"]);
    expect(questions).toEqual(["Type the Worker's name (loading-dock) to delete all of this: "]);
    expect(text()).toContain("  - the D1 database loading-dock (ledger, cursors, runs)");
    expect(readState(account).workers).toEqual({});
  });

  it("given --dry-run, then it prints every step and calls nothing", async () => {
    const { root, account } = deployed(0);
    const before = readState(account).calls.length;
    const { text } = await destroy(root, account, { dryRun: true });
    expect(readState(account).calls.length).toBe(before);
    for (const line of [
      "wrangler delete loading-dock --force",
      "wrangler r2 bucket notification delete loading-dock-raw --queue loading-dock-files",
      "wrangler queues delete loading-dock-files-dlq",
      "wrangler d1 delete loading-dock --skip-confirmation",
      "delete the R2 bucket loading-dock-raw when it is empty (kept while it holds objects)",
    ])
      expect(text()).toContain(line);
  });
});
