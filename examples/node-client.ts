// The DocuChat client from Node: log in, upload a PDF, wait for it, search, then ask a question and stream the
// answer with its citations. Build the client first (npm run client:build), then:
//   API=http://localhost:8787 TENANT=demo node examples/node-client.ts [file.pdf] ["question"]
// EMAIL picks the account; CODE gives the emailed login code on a stack that does not return it (dev_code).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createDocuChat, unwrap } from "../client/dist/index.js";

const pdfPath = process.argv[2] ?? new URL("../test/fixtures/pdf/first-latex-doc-en.pdf", import.meta.url).pathname;
const question = process.argv[3] ?? "How do I start a new section?";
const email = process.env.EMAIL ?? `node.${Date.now()}@example.com`;

const dc = createDocuChat({ baseUrl: process.env.API ?? "http://localhost:8787", tenant: process.env.TENANT ?? "demo" });

await dc.login(email, process.env.CODE);
console.log(`logged in as ${email}`);

const uploaded = await dc.uploadFile(new Blob([readFileSync(pdfPath)], { type: "application/pdf" }), {
  filename: basename(pdfPath),
  onProgress: ({ loaded, total }) => console.log(`uploaded ${loaded}/${total} bytes`),
});
const doc = await dc.waitUntilReady(uploaded.id, {
  onProgress: (d) => console.log(`${d.status}: ${d.progress.pages_done}/${d.progress.pages_total ?? "?"} pages`),
});
console.log(`ready: ${doc.filename}, ${doc.page_count} pages, ${doc.chunk_count} chunks`);

const { results } = unwrap(await dc.api.POST("/v1/search", { body: { query: question, top_k: 3 } }));
for (const r of results) console.log(`search hit: ${r.filename} p. ${r.page_start}-${r.page_end} (${r.score.toFixed(4)})`);

const chat = dc.openChat();
console.log(`session ${await chat.ready()}`);
process.stdout.write(`Q: ${question}\nA: `);
for await (const frame of chat.ask(question, { fileIds: [doc.id] })) {
  if (frame.type === "delta") process.stdout.write(frame.content);
  else if (frame.type === "citations") for (const c of frame.citations) console.error(`[${c.n}] ${c.filename} p. ${c.page_start}-${c.page_end}`);
  else console.log(`\n(${frame.status}, ${frame.usage.total_tokens} tokens)`);
}
chat.close();
