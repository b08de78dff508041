// Failures that retrying cannot fix: the document ends as `failed` with this code, and the message is acked.
export type PermanentErrorCode = "too_many_pages" | "encrypted" | "invalid_pdf" | "no_text";

export class PermanentIngestError extends Error {
  readonly code: PermanentErrorCode;
  constructor(code: PermanentErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
