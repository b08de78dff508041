// Limits on uploaded documents, enforced on upload (size, type) and during ingestion (pages).
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
export const MAX_PAGES = 500;
/** The multipart envelope around the file (boundaries, part headers, a file name). */
export const MULTIPART_OVERHEAD_BYTES = 16 * 1024;
export const MAX_FILENAME_LENGTH = 255;
/**
 * Characters of text indexed per page: a dense A4 page holds 3,000–6,000, so 50,000 only cuts pages built to
 * inflate the index (a few KB of Flate can draw megabytes of text). The rest of such a page is dropped with a
 * page_truncated warning.
 */
export const MAX_PAGE_CHARS = 50_000;
/**
 * Characters of text indexed per document: a 500-page book of dense text is about 1.5 million, and at about four
 * characters a token this is at most ~500,000 embedding tokens. Pages past it are not read (text_limit warning).
 */
export const MAX_DOCUMENT_CHARS = 2_000_000;
