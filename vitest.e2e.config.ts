import { defineConfig } from "vitest/config";

// npm run test:e2e — real HTTP, WebSocket and browser clients against `wrangler dev` and the local stack.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // One stack, one browser: files run one after another.
    fileParallelism: false,
  },
});
