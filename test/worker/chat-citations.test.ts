// Every [n] in an answer refers to a citation that was sent: the marker filter on the streamed deltas
// (src/chat/citation-markers.ts) on its own, then whole conversations over the OpenAI stand-in in English and Persian,
// including the follow-up whose sources are gone, where the stand-in quotes earlier answers and their markers.
import { describe, expect, it } from "vitest";
import { citationMarkerFilter } from "../../src/chat/citation-markers.ts";
import { call, fixturePdf, login, uploadReady } from "../support/api.ts";
import { type Answer, ChatClient, injectFault, marker, sessionMessages } from "../support/chat.ts";

/** Every number in every bracketed marker, in any digits: "[2]", "[1, 3]", "[۴]", "[۱،۲]". */
const citedNumbers = (text: string) =>
  [...text.matchAll(/\[([\s\d\u06F0-\u06F9\u0660-\u0669,،]+)\]/g)].flatMap((m) =>
    m[1]!
      .split(/[,،]/)
      .filter((n) => n.trim())
      .map((n) => Number(n.trim().replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0)))),
  );

/** Runs the filter over the deltas as given. */
const filtered = (count: number, deltas: string[]) => {
  const filter = citationMarkerFilter(count);
  return deltas.map((d) => filter.push(d)).join("") + filter.flush();
};
/** The same text streamed one character at a time: a marker split across deltas is still seen whole. */
const perChar = (count: number, text: string) => filtered(count, [...text]);

describe("the citation marker filter", () => {
  it("keeps markers of sent citations and drops the others with the space before them", () => {
    const text = "Use \\section [1]. It numbers them [2, 7]. Not this one [9].\n\n[8] A new paragraph [3].";
    const expected = "Use \\section [1]. It numbers them [2]. Not this one.\n\n A new paragraph [3].";
    expect(filtered(3, [text])).toBe(expected);
    expect(perChar(3, text)).toBe(expected);
  });

  it("drops every marker when no citation was sent", () => {
    expect(perChar(0, "منابع پاسخ این پرسش را ندارند [1] یا [2].")).toBe("منابع پاسخ این پرسش را ندارند یا.");
  });

  it("reads Persian and Arabic-Indic digits and the Persian comma, and writes ASCII the page links", () => {
    expect(perChar(4, "کنوث در سال ۱۹۷۷ شروع کرد [۲]. دو منبع [۱،۳] و نه [۹].")).toBe("کنوث در سال ۱۹۷۷ شروع کرد [2]. دو منبع [1, 3] و نه.");
    expect(perChar(2, "x [٢]")).toBe("x [2]");
  });

  it("leaves code alone: fenced blocks and inline spans", () => {
    const text = "Index it [1]:\n\n```js\nconst a = list [9];\n```\n\nor `b [7]` inline [5].";
    expect(perChar(2, text)).toBe("Index it [1]:\n\n```js\nconst a = list [9];\n```\n\nor `b [7]` inline.");
  });

  it("passes Markdown links and brackets that are not markers through unchanged, in any split", () => {
    const text = "See [the manual](https://ctan.org) and [a, b] or [12 pages long.";
    expect(perChar(1, text)).toBe(text);
    expect(filtered(1, ["See [", "the manual](https://ctan.org) and [a", ", b] or [12 pages long."])).toBe(text);
  });
});

/** The numbers cited in an answer, the streamed text and the stored one alike, all among those sent. */
function expectOnlySentCitations(a: Answer) {
  expect(a.error).toBeNull();
  expect(a.done?.status).toBe("complete");
  const sent = (a.citations ?? []).map((c) => c.n);
  expect(
    citedNumbers(a.text).filter((n) => !sent.includes(n)),
    `answer: ${a.text}; sent: ${sent.join(", ")}`,
  ).toEqual([]);
}

/** A conversation over one document; then the document is deleted and the follow-up has no sources at all. */
async function conversation(file: string, questions: string[], afterDeletion: string) {
  const { token } = await login();
  const doc = await uploadReady(token, fixturePdf(file), file);
  const chat = await ChatClient.open({ token });
  const answers: Answer[] = [];
  for (const q of questions) answers.push(await chat.ask(q));
  expect((await call(`/v1/files/${doc.id}`, { method: "DELETE", token })).status).toBe(204);
  const last = await chat.ask(afterDeletion);
  answers.push(last);
  const { messages: stored } = await sessionMessages(token, chat.sessionId);
  chat.close();
  return { answers, last, stored };
}

describe("answers over the stand-in cite only the citations they were sent", () => {
  it.each([
    {
      language: "English",
      file: "en-1.chromium.pdf",
      questions: ["When does the garden open?", "How much does a plot cost?", "And a double plot?"],
      afterDeletion: "And in winter, on which days is the garden open?",
    },
    {
      language: "Persian",
      file: "fa-1.chromium.pdf",
      questions: ["کتابخانه پنجشنبه‌ها تا چه ساعتی باز است؟", "اگر کتاب را دیر پس بدهم چقدر باید جریمه بدهم؟"],
      afterDeletion: "جریمهٔ دیرکرد کتاب‌ها چقدر است؟",
    },
  ])(
    "$language: every turn, and the follow-up after its sources were deleted",
    async ({ file, questions, afterDeletion }) => {
      const { answers, last, stored } = await conversation(file, questions, afterDeletion);
      // The earlier turns were answered from their sources, and cited them.
      for (const a of answers.slice(0, -1)) expect(citedNumbers(a.text).length).toBeGreaterThan(0);
      for (const a of answers) expectOnlySentCitations(a);
      // Nothing left to cite: the stand-in answers from the history, whose markers must not come along.
      expect(last.citations).toEqual([]);
      expect(citedNumbers(last.text)).toEqual([]);
      // What was stored is what was streamed.
      const assistant = stored.filter((m) => m.role === "assistant").map((m) => m.content);
      expect(assistant).toEqual(answers.map((a) => a.text));
    },
    120_000,
  );
});

describe("a model that cites numbers it was not given", () => {
  it("has them dropped from the stream and the history, its code and its Persian digits handled", async () => {
    const { token } = await login();
    await uploadReady(token, fixturePdf("fa-1.chromium.pdf"), "fa-1.chromium.pdf");
    const mark = marker("cite");
    // The stand-in streams this about a word per delta: "[1" and "2]" may arrive apart; it is one marker all the same.
    const reply =
      "کتابخانه تا ساعت ۲۰ باز است [۱] و جریمه [12] دارد [1، 2].\n\n```js\nconst day = hours[12];\n```\n\nSee [the rules](https://example.com) [12].";
    await injectFault({ match: mark, endpoint: "chat", reply });
    const chat = await ChatClient.open({ token });
    const a = await chat.ask(`${mark} کتابخانه پنجشنبه‌ها تا چه ساعتی باز است؟`);
    const sent = a.citations!.length;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(sent).toBeLessThan(12);
    expect(a.text).toBe(
      "کتابخانه تا ساعت ۲۰ باز است [1] و جریمه دارد [1, 2].\n\n```js\nconst day = hours[12];\n```\n\nSee [the rules](https://example.com).",
    );
    expectOnlySentCitations({ ...a, text: a.text.replace(/```[\s\S]*?```/g, "") });
    const { messages } = await sessionMessages(token, chat.sessionId);
    expect(messages.at(-1)!.content).toBe(a.text);
    chat.close();
  }, 60_000);
});
