// Values the global setup hands to the tests (vitest `provide` / `inject`).
declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
    /** The PDFs of test/fixtures/pdf, base64-encoded (workerd tests cannot read files). */
    fixturePdfs: Record<string, string>;
  }
}
export {};
