// Answers are Markdown: parsed with marked, then sanitised with DOMPurify against an allow-list, both vendored in
// vendor/ (scripts/docs-assets.mjs). The model writes the text, and the documents it quotes can hold anything, so
// the answer is untrusted: raw HTML in it is shown as text, never parsed; images are not loaded (their alt text is
// shown); links open in a new tab without access to this page and only to http(s) or mailto. Each block takes its
// own direction (dir="auto"), so a Persian paragraph reads right to left beside an English one; code stays left to
// right. Then the [n] markers of sent citations become buttons (the caller's `cite`), outside code and links.

import { langOf } from "./ui.js";
import DOMPurify from "./vendor/dompurify/purify.es.mjs";
import { Marked } from "./vendor/marked/marked.esm.js";

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ text }) => escapeHtml(text),
  },
});

const PURIFY = {
  ALLOWED_TAGS: "p br hr blockquote h1 h2 h3 h4 h5 h6 ul ol li pre code strong em del a table thead tbody tr th td".split(" "),
  ALLOWED_ATTR: ["href", "title", "start", "align"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
};

// A link that kept its href (an allowed scheme) opens in a new tab that cannot reach this page (window.opener).
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName !== "A" || !node.hasAttribute("href")) return;
  node.setAttribute("target", "_blank");
  node.setAttribute("rel", "noopener noreferrer");
});

const BLOCKS = "p, li, h1, h2, h3, h4, h5, h6, blockquote, th, td, ul, ol";
const CITE_MARK = /\[(\d+(?:\s*[,،]\s*\d+)*)\]/g;

/**
 * The answer as safe HTML, and the citation numbers it cites.
 * @param {string} text the answer's Markdown
 * @param {(n: number) => Element | null} cite the button for citation n; null when no such citation was sent
 */
export function renderMarkdown(text, cite) {
  const fragment = /** @type {DocumentFragment} */ (DOMPurify.sanitize(marked.parse(text, { async: false }), PURIFY));
  for (const block of fragment.querySelectorAll(BLOCKS)) {
    block.setAttribute("dir", "auto");
    block.setAttribute("lang", langOf(block.textContent ?? ""));
  }
  for (const pre of fragment.querySelectorAll("pre")) pre.setAttribute("dir", "ltr");
  const cited = new Set();
  const walker = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement?.closest("code, pre, a") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts = [];
  while (walker.nextNode()) texts.push(/** @type {Text} */ (walker.currentNode));
  for (const node of texts) {
    const value = node.data;
    const parts = [];
    let last = 0;
    for (const match of value.matchAll(CITE_MARK)) {
      const buttons = match[1].split(/[,،]/).map((n) => cite(Number(n.trim())));
      if (buttons.some((b) => !b)) continue;
      parts.push(value.slice(last, match.index), ...buttons);
      for (const b of buttons) cited.add(Number(/** @type {HTMLElement} */ (b).dataset.n));
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    node.replaceWith(...parts, value.slice(last));
  }
  return { fragment, cited };
}
