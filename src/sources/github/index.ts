import { defineSource } from "../define-source";
import { githubWebhookRecords } from "./events";
import { githubScheme } from "./signature";

export const github = defineSource({
  name: "github",
  title: "GitHub",
  webhook: { scheme: githubScheme, records: githubWebhookRecords },
});
