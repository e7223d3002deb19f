import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { preparePlan } from "./deploy.mjs";
import { GENERATED_CONFIG, SECRETS_FILE } from "./deploy-plan.mjs";
import { readInventory, requireCredentials, stepCaller } from "./deploy-steps.mjs";
import { parseLabelledBlocks, parseNotificationList, parseObjectCount, wranglerRunner } from "./deploy-wrangler.mjs";

export const EMPTYING_RULE = "dock-destroy-expire-all";

/**
 * `dock destroy`: removes what `dock deploy` created — the Worker (and its secrets), the R2 event
 * notification, every queue and DLQ, the D1 database — after a typed confirmation (--yes for
 * scripts). The raw zone's bucket is deleted only when it is empty; with --delete-bucket a bucket
 * that holds objects gets a lifecycle rule expiring them all (R2 deletes only empty buckets), to be
 * deleted by running destroy again once it is empty. What is already gone is skipped.
 */
export async function runDestroy({ root, options = {}, env = process.env, io, runner }) {
  const { plan } = await preparePlan(root);
  const steps = destroySteps(plan, options);
  if (options.dryRun) {
    io.out(
      [
        `dock destroy --dry-run: the steps for Worker ${plan.worker} (nothing is called, nothing is deleted)`,
        "",
        "0. read what exists: wrangler secret list · wrangler d1 list --json · wrangler r2 bucket list · wrangler queues list --page N",
        ...steps.map((s, i) => `${i + 1}. ${s.title}\n     if it exists: ${s.commandText}`),
      ].join("\n"),
    );
    return { dryRun: true };
  }
  requireCredentials(env, "dock destroy");
  const call = stepCaller("dock destroy", runner ?? wranglerRunner({ root, env }));
  const inventory = await readInventory(call, plan.worker);
  const present = await presentSteps(call, steps, inventory);

  if (present.length === 0) {
    io.out(`Nothing of ${plan.worker} is left on the account.`);
  } else {
    io.out([`This deletes, on the Cloudflare account:`, ...present.map((s) => `  - ${s.what}`)].join("\n"));
    await confirm(io, plan.worker, options.yes);
    for (const step of present) {
      await call(step.title, step.args);
      io.out(`- ${step.done}`);
    }
  }
  for (const kept of steps.filter((s) => s.kept)) io.out(`= ${kept.kept}`);
  const generated = join(root, GENERATED_CONFIG);
  if (existsSync(generated) && present.some((s) => s.kind === "d1")) {
    rmSync(generated);
    io.out(`- ${GENERATED_CONFIG} (it named the deleted database)`);
  }
  io.out(`${SECRETS_FILE} is kept (your secrets and vendor settings); delete it yourself if you no longer need it.`);
  return { deleted: present.map((s) => s.id) };
}

async function confirm(io, worker, yes) {
  if (yes) return;
  if (!io.interactive)
    throw new Error("dock destroy deletes data: confirm by typing the Worker's name in a terminal, or pass --yes. Nothing was deleted.");
  const answer = (await io.ask(`Type the Worker's name (${worker}) to delete all of this: `)).trim();
  if (answer !== worker) throw new Error(`"${answer}" is not ${worker}: nothing was deleted.`);
}

/** Every step destroy may take, in order: the Worker first (it consumes the queues), the bucket last. */
function destroySteps(plan, options) {
  const steps = [
    { id: "worker", kind: "worker", title: `delete the Worker ${plan.worker} (and its secrets)`, args: ["delete", plan.worker, "--force"] },
  ];
  for (const s of plan.steps.filter((x) => x.kind === "notification"))
    steps.push({
      id: s.id,
      kind: "notification",
      bucket: s.bucket,
      queue: s.queue,
      title: `delete the event notifications ${s.bucket} → ${s.queue}`,
      args: ["r2", "bucket", "notification", "delete", s.bucket, "--queue", s.queue],
    });
  for (const s of plan.steps.filter((x) => x.kind === "queue"))
    steps.push({ id: s.id, kind: "queue", name: s.name, title: `delete the queue ${s.name}`, args: ["queues", "delete", s.name] });
  for (const s of plan.steps.filter((x) => x.kind === "d1"))
    steps.push({
      id: s.id,
      kind: "d1",
      name: s.name,
      title: `delete the D1 database ${s.name}`,
      args: ["d1", "delete", s.name, "--skip-confirmation"],
    });
  for (const s of plan.steps.filter((x) => x.kind === "r2"))
    steps.push({
      id: s.id,
      kind: "r2",
      name: s.name,
      deleteBucket: Boolean(options.deleteBucket),
      title: `delete the R2 bucket ${s.name} when it is empty${options.deleteBucket ? " (with --delete-bucket: else expire all its objects first)" : " (kept while it holds objects)"}`,
      args: ["r2", "bucket", "delete", s.name],
    });
  for (const s of steps) s.commandText = `wrangler ${s.args.join(" ")}`;
  return steps;
}

/** The steps whose resource exists, each with the call to make and what to say; a bucket with objects is kept or set to empty. */
async function presentSteps(call, steps, inventory) {
  const present = [];
  for (const step of steps) {
    if (step.kind === "worker" && inventory.secrets !== null)
      present.push({ ...step, what: `the Worker ${step.args[1]} and its secrets`, done: `Worker ${step.args[1]}` });
    if (step.kind === "notification" && inventory.buckets.has(step.bucket)) {
      const rules = await call(`list event notifications of ${step.bucket}`, ["r2", "bucket", "notification", "list", step.bucket], (r) =>
        parseNotificationList(r.stdout),
      );
      if (rules.some((r) => r.queue === step.queue))
        present.push({
          ...step,
          what: `the event notifications of ${step.bucket} to ${step.queue}`,
          done: `event notifications ${step.bucket} → ${step.queue}`,
        });
    }
    if (step.kind === "queue" && inventory.queues.has(step.name))
      present.push({ ...step, what: `the queue ${step.name} (and any message in it)`, done: `queue ${step.name}` });
    if (step.kind === "d1" && inventory.databases.some((d) => d.name === step.name))
      present.push({ ...step, what: `the D1 database ${step.name} (ledger, cursors, runs)`, done: `D1 database ${step.name}` });
    if (step.kind === "r2" && inventory.buckets.has(step.name)) {
      const count = await call(`read the object count of ${step.name}`, ["r2", "bucket", "info", step.name, "--json"], (r) =>
        parseObjectCount(r.stdout),
      );
      if (count === 0) present.push({ ...step, what: `the R2 bucket ${step.name} (empty)`, done: `R2 bucket ${step.name}` });
      else if (step.deleteBucket && (await hasEmptyingRule(call, step.name)))
        step.kept = `R2 bucket ${step.name} kept for now: it holds ${count} objects, expiring under the rule ${EMPTYING_RULE}; run \`dock destroy --delete-bucket\` again once it is empty`;
      else if (step.deleteBucket)
        present.push({
          ...step,
          title: `expire every object of ${step.name}`,
          args: ["r2", "bucket", "lifecycle", "add", step.name, EMPTYING_RULE, "--expire-days", "1", "--force"],
          what: `every one of the ${count} objects of the R2 bucket ${step.name} (the raw zone), by a lifecycle rule expiring them within a day`,
          done: `${step.name}: lifecycle rule ${EMPTYING_RULE} added; R2 deletes only empty buckets, so run \`dock destroy --delete-bucket\` again once it is empty`,
        });
      else
        step.kept = `R2 bucket ${step.name} kept: it holds ${count} objects (the raw zone). To delete it too: dock destroy --delete-bucket`;
    }
  }
  return present;
}

async function hasEmptyingRule(call, bucket) {
  const rules = await call(`list the lifecycle rules of ${bucket}`, ["r2", "bucket", "lifecycle", "list", bucket], (r) =>
    parseLabelledBlocks(r.stdout),
  );
  return rules.some((rule) => rule.name === EMPTYING_RULE);
}
