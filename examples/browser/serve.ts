// Serves the browser example with the built client: npm run client:build && npm run examples:browser
// (PORT, default 5173). Only these folders are served; the page talks to the API (?api=) cross-origin.
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
const SERVED = ["examples/browser/", "client/dist/", "client/node_modules/openapi-fetch/dist/"];
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".map": "application/json",
};

export function serveExamples(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^\/+/, "");
    if (path === "") return res.writeHead(302, { Location: "/examples/browser/" }).end();
    const file = join(ROOT, path.endsWith("/") ? `${path}index.html` : path);
    if (!SERVED.some((dir) => path.startsWith(dir)) || !statSync(file, { throwIfNoEntry: false })?.isFile())
      return res.writeHead(404).end("not found");
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (import.meta.main) {
  const server = await serveExamples(Number(process.env.PORT ?? 5173));
  const { port } = server.address() as { port: number };
  console.log(`http://127.0.0.1:${port}/examples/browser/?api=${process.env.API ?? "http://localhost:8787"}&tenant=${process.env.TENANT ?? "demo"}`);
}
