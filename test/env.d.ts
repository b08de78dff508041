// Types for `cloudflare:workers` inside the tests: the bindings are strings, and `exports` is our Worker.
declare namespace Cloudflare {
  interface Env extends Record<string, string> {}
  interface GlobalProps {
    mainModule: typeof import("../src/index.ts");
  }
}
