// Prints the OpenAPI document exactly as GET /openapi.json serves it, without a running stack:
// `node scripts/openapi-dump.ts [out.json]` (stdout when no path is given).
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

// The app's module graph reaches the chat Durable Object, whose base class only exists inside workerd.
registerHooks({
  resolve: (specifier, context, next) =>
    specifier === "cloudflare:workers" ? { url: "data:text/javascript,export class DurableObject {}", shortCircuit: true } : next(specifier, context),
});
const { createApp } = await import("../src/app.ts");

// Serving the document reads no binding, but the configuration must validate; none of these is ever contacted.
const env = {
  ENVIRONMENT: "development",
  DATABASE_URL: "postgres://openapi-dump@localhost/none",
  UPSTASH_REDIS_REST_URL: "http://localhost:1",
  UPSTASH_REDIS_REST_TOKEN: "openapi-dump",
  JWT_SECRET: "openapi-dump".padEnd(32, "."),
  OPENAI_API_KEY: "openapi-dump",
};
// The request log line goes to stderr so that stdout is the document alone.
console.log = console.error;
// A fixed origin keeps the dumped document stable (the served one names the origin it was fetched from).
const res = await createApp().request("http://localhost:8787/openapi.json", {}, env);
if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
const json = `${JSON.stringify(await res.json(), null, 2)}\n`;
if (process.argv[2]) writeFileSync(process.argv[2], json);
else process.stdout.write(json);
