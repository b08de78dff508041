// Types for `cloudflare:workers` inside the tests. The bindings and `mainModule` come from worker-configuration.d.ts
// (generated from wrangler.toml); the tests also read the secrets and variables the local stack passes in.
declare namespace Cloudflare {
  interface Env {
    [variable: string]: any;
  }
}
