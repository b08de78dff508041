import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Starts the local stack once, outside workerd (so Node modules resolve as in Node).
    globalSetup: ["test/global-setup.ts"],
    projects: [
      {
        // The local stand-ins, exercised in Node with the real client libraries.
        test: {
          name: "stack",
          include: ["test/stack/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The Worker inside workerd (Miniflare), against the local stack started by the global setup.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: inject("workerBindings") },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["test/support/contract-guard.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
