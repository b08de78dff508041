// A webhook receiver for the tests, run in Node by the global setup: it records every request it gets, by path, and
// answers 204 unless told otherwise. The tests (inside workerd) drive it over HTTP:
//   GET  /__requests?path=/hooks/x   → { requests: [{ method, path, headers, body, received_at }] }
//   POST /__answers {path, status, times, location?}  → the next `times` requests to `path` get `status`
// Every other path is a webhook endpoint; a test uses a path of its own, so tests never see each other's requests.
import { createServer } from "node:http";
import { closeServer, listen, readBody, sendJson } from "../../dev/lib/http.ts";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  received_at: string;
}

interface CannedAnswer {
  status: number;
  times: number;
  location?: string;
}

export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received = new Map<string, ReceivedRequest[]>();
  const answers = new Map<string, CannedAnswer>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const body = (await readBody(req)).toString("utf8");
    if (url.pathname === "/__requests") return sendJson(res, 200, { requests: received.get(url.searchParams.get("path") ?? "") ?? [] });
    if (url.pathname === "/__answers") {
      const { path, ...answer } = JSON.parse(body) as CannedAnswer & { path: string };
      answers.set(path, answer);
      return res.writeHead(204).end();
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const list = received.get(url.pathname) ?? [];
    list.push({ method: req.method ?? "", path: url.pathname, headers, body, received_at: new Date().toISOString() });
    received.set(url.pathname, list);
    const answer = answers.get(url.pathname);
    if (answer && answer.times > 0) {
      answer.times--;
      res.writeHead(answer.status, answer.location ? { Location: answer.location } : {});
      return res.end(`canned ${answer.status}`);
    }
    res.writeHead(204).end();
  });
  const port = await listen(server, 0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
