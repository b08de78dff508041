// A failure with a machine-readable code and whether trying again may help: what the chat pipeline tells the
// client in an error frame, and what OCR tells ingestion.
export class CodedError<Code extends string> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  constructor(code: Code, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}
