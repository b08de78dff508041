// A minimal chat page on @docuchat/client (client/dist): login, upload with progress, a streamed answer and its
// citations. ?api=<origin>&tenant=<id> pick the API (default: http://localhost:8787, demo).
import { createDocuChat } from "/client/dist/index.js";

const params = new URLSearchParams(location.search);
const dc = createDocuChat({ baseUrl: params.get("api") ?? "http://localhost:8787", tenant: params.get("tenant") ?? "demo" });
const $ = (id) => document.getElementById(id);
const status = (text) => ($("status").textContent = text);
let chat;

function onError(e) {
  status(`Error: ${e.message}${e.code ? ` (${e.code})` : ""}`);
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await dc.login($("email").value, $("code").value || undefined);
    chat = dc.openChat({ onState: (s, err) => s !== "open" && status(`Chat ${s}${err ? `: ${err.message}` : ""}`) });
    status(`Logged in; chat session ${await chat.ready()}`);
  } catch (err) {
    onError(err);
  }
});

$("upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const file = $("file").files[0];
    const doc = await dc.uploadFile(file, { onProgress: ({ loaded, total }) => ($("progress").value = loaded / total) });
    const ready = await dc.waitUntilReady(doc.id, { onProgress: (d) => status(`${d.filename}: ${d.status} (${d.progress.pages_done} pages)`) });
    status(`${ready.filename} is ready: ${ready.page_count} pages`);
  } catch (err) {
    onError(err);
  }
});

$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("answer").textContent = "";
  $("citations").replaceChildren();
  $("cancel").hidden = false;
  try {
    for await (const frame of chat.ask($("question").value)) {
      if (frame.type === "delta") $("answer").append(frame.content);
      else if (frame.type === "citations")
        $("citations").replaceChildren(
          ...frame.citations.map((c) =>
            Object.assign(document.createElement("li"), { textContent: `${c.filename} p. ${c.page_start}–${c.page_end}` }),
          ),
        );
      else status(`Answer ${frame.status} (${frame.usage.total_tokens} tokens)`);
    }
  } catch (err) {
    onError(err);
  } finally {
    $("cancel").hidden = true;
  }
});

$("cancel").addEventListener("click", () => chat.cancel());
