// OCR of one page through the OpenAI API: the page image goes to a vision-capable chat model (OCR_MODEL) with a
// prompt that asks for a verbatim transcription and nothing else.
import { Buffer } from "node:buffer";
import OpenAI from "openai";
import { CodedError } from "../lib/coded-error.ts";
import type { PdfPage } from "../pdf/open.ts";
import type { PlacedImage } from "../pdf/page-images.ts";
import { pageImage } from "./page-image.ts";

export type OcrErrorCode = "ocr_failed" | "ocr_unavailable" | "ocr_budget";

/** An OCR failure. A retryable one retries the page range (the queue message); the others become a warning. */
export class OcrError extends CodedError<OcrErrorCode> {}

export interface PageReading {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

export interface PageOcr {
  model: string;
  /** Throws only OcrErrors. */
  transcribe(page: PdfPage, images?: PlacedImage[]): Promise<PageReading>;
}

const SYSTEM_PROMPT = [
  "You transcribe scanned document pages.",
  "Return the page's text verbatim, in reading order (right to left for Persian and Arabic), keeping paragraphs",
  "as blank-line separated blocks and table rows as lines. Keep every language as written; do not translate,",
  "summarise, correct or describe the page. Return nothing but the text; if the page has no text, return nothing.",
].join(" ");

/**
 * `beforeCall` runs before each model call (the daily budget check); it throws an OcrError to stop.
 */
export function createPageOcr(openai: OpenAI, model: string, beforeCall: () => Promise<void> = async () => {}): PageOcr {
  return {
    model,
    async transcribe(page, images) {
      const image = await pageImage(page, images).catch((err: unknown) => {
        throw new OcrError("ocr_failed", `the page image could not be decoded (${String(err)})`, false);
      });
      if (!image) throw new OcrError("ocr_failed", "the page has no image to read", false);
      const url = `data:image/png;base64,${Buffer.from(image.png).toString("base64")}`;
      try {
        await beforeCall();
        const res = await openai.chat.completions.create({
          model,
          temperature: 0,
          messages: [
            { role: "system", content: SYSTEM_PROMPT },
            {
              role: "user",
              content: [
                { type: "text", text: "Transcribe this page." },
                { type: "image_url", image_url: { url, detail: "high" } },
              ],
            },
          ],
        });
        return {
          text: res.choices[0]?.message.content ?? "",
          promptTokens: res.usage?.prompt_tokens ?? 0,
          completionTokens: res.usage?.completion_tokens ?? 0,
        };
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

/**
 * Every failure of the budget check or the call as an OcrError: the SDK's (connection errors included) by status,
 * anything else (the database behind the budget check, say) transient.
 */
function classify(err: unknown): OcrError {
  if (err instanceof OcrError) return err;
  if (!(err instanceof OpenAI.APIError)) return new OcrError("ocr_failed", `the OCR call failed: ${String(err)}`, true);
  if (err.code === "ocr_unavailable") return new OcrError("ocr_unavailable", `OCR is not available: ${err.message}`, false);
  // A request the API refuses (bad image, model without vision) fails the same way every time.
  if (err.status === 400 || err.status === 404 || err.status === 422)
    return new OcrError("ocr_failed", `the OCR model refused the page: ${err.message}`, false);
  return new OcrError("ocr_failed", `the OCR call failed: ${err.message}`, true);
}
