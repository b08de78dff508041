import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
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
    ],
  },
});
