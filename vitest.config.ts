import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Two projects, one `npm test`: the Worker's tests run inside workerd against local D1, R2 and
 * Queues; the Node parts (CDC sidecar, CLI, scripts) run in Node against real services they start.
 */
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      // Logs of passing tests stay quiet (the fuzz and fault suites log thousands of refusals);
      // a failing test still prints everything it logged.
      silent: "passed-only" as const,
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ADMIN_TOKEN: "test-admin-token",
                  STRIPE_WEBHOOK_SECRET: "whsec_test_stripe_secret",
                  ACME_WEBHOOK_SECRET: "acme-test-secret",
                  // Webhook sources (issue 3): current and previous secret of each, to test rotation.
                  SVIX_WEBHOOK_SECRET: "whsec_c3ZpeC10ZXN0LXNlY3JldC0zMi1ieXRlcy1sb25nISE=",
                  SVIX_WEBHOOK_SECRET_PREVIOUS: "whsec_c3ZpeC1wcmV2aW91cy1zZWNyZXQtMzItYnl0ZXMhIQ==",
                  GITHUB_WEBHOOK_SECRET: "github-test-secret",
                  GITHUB_WEBHOOK_SECRET_PREVIOUS: "github-previous-secret",
                  HUBSPOT_WEBHOOK_SECRET: "hubspot-client-secret-test",
                  HUBSPOT_WEBHOOK_SECRET_PREVIOUS: "hubspot-client-secret-previous",
                  SHOPIFY_WEBHOOK_SECRET: "shopify-app-secret-test",
                  SHOPIFY_WEBHOOK_SECRET_PREVIOUS: "shopify-app-secret-previous",
                  ZENDESK_WEBHOOK_SECRET: "zendesk-signing-secret-test",
                  ZENDESK_WEBHOOK_SECRET_PREVIOUS: "zendesk-signing-secret-previous",
                  INTERCOM_WEBHOOK_SECRET: "intercom-client-secret-test",
                  INTERCOM_WEBHOOK_SECRET_PREVIOUS: "intercom-client-secret-previous",
                  SEGMENT_WEBHOOK_SECRET: "segment-shared-secret-test",
                  SEGMENT_WEBHOOK_SECRET_PREVIOUS: "segment-shared-secret-previous",
                  KLAVIYO_WEBHOOK_SECRET: "klaviyo-webhook-secret-test",
                  KLAVIYO_WEBHOOK_SECRET_PREVIOUS: "klaviyo-webhook-secret-previous",
                  META_WEBHOOK_SECRET: "meta-app-secret-test",
                  META_WEBHOOK_SECRET_PREVIOUS: "meta-app-secret-previous",
                  META_VERIFY_TOKEN: "meta-verify-token-test",
                  SALESFORCE_WEBHOOK_SECRET: "salesforce-url-token-test",
                  SALESFORCE_WEBHOOK_SECRET_PREVIOUS: "salesforce-url-token-previous",
                  SALESFORCE_ORG_ID: "00D000000000062EAA",
                  AMPLITUDE_WEBHOOK_SECRET: "amplitude-header-secret-test",
                  AMPLITUDE_WEBHOOK_SECRET_PREVIOUS: "amplitude-header-secret-previous",
                  CDC_INGEST_SECRET: "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==",
                  // `RECORD_LEDGER=d1 npx vitest run …` runs the Worker's tests against the D1 record ledger (default: sharded).
                  ...(process.env.RECORD_LEDGER ? { RECORD_LEDGER: process.env.RECORD_LEDGER } : {}),
                },
              },
            }),
          ],
          test: {
            name: "worker",
            include: ["test/**/*.test.ts", "src/**/*.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
            // Tests that wait for the local queue to deliver return as soon as it has; the ceiling
            // only matters on a loaded machine (CI's two cores run both projects at once).
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: ["sidecar/**/*.test.ts", "cli/**/*.test.ts", "scripts/**/*.test.ts"],
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
