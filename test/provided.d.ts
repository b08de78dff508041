// Values the global setup hands to the tests (vitest `provide` / `inject`).
declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
    /** The PDFs of test/fixtures/pdf, base64-encoded (workerd tests cannot read files). */
    fixturePdfs: Record<string, string>;
    /** The files of test/fixtures/source (texts the producer fixtures were made from, questions.json), by name. */
    fixtureSources: Record<string, string>;
    /** An OpenAI stand-in whose OCR cannot run (no tesseract): vision requests answer 503 ocr_unavailable. */
    openaiWithoutOcrUrl: string;
    /** The test webhook receiver (test/support/webhook-receiver.ts): http://127.0.0.1:PORT. */
    webhookReceiverUrl: string;
  }
}

export {};
