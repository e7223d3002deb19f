import { defineSource } from "../define-source";
import { githubWebhookRecords } from "./events";
import { githubScheme } from "./signature";
import { githubReconcile } from "./reconcile";

export const github = defineSource({
  name: "github",
  title: "GitHub",
  webhook: { scheme: githubScheme, records: githubWebhookRecords },
  reconcile: githubReconcile,
});
