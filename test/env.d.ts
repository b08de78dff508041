// Types for `cloudflare:workers` inside the tests: the Worker's bindings, and `exports` is our Worker.
declare namespace Cloudflare {
  interface Env {
    DOCUMENTS: R2Bucket;
    INGEST_QUEUE: Queue;
    [variable: string]: any;
  }
  interface GlobalProps {
    mainModule: typeof import("../src/index.ts");
  }
}
