// @docuchat/client: the typed DocuChat API client for browsers and Node.
export { type AskOptions, ChatSocket, type ChatState, type OpenChatOptions } from "./chat.ts";
export { createDocuChat, type DocuChat, type DocuChatOptions, type DocumentInfo, type LoginResult, type WaitOptions } from "./client.ts";
export { DocuChatError, unwrap } from "./errors.ts";
export type { AnswerFrame, ChatErrorCode, Citation, ClientFrame, ServerFrame, Usage } from "./frames.ts";
export { CloseCode } from "./frames.ts";
export type { components, paths } from "./schema.ts";
export type { UploadProgress } from "./upload.ts";
