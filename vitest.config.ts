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
                  CDC_INGEST_SECRET: "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==",
                },
              },
            }),
          ],
          test: {
            name: "worker",
            include: ["test/**/*.test.ts", "src/**/*.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
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
