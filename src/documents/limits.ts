// Limits on uploaded documents, enforced on upload (size, type) and during ingestion (pages).
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
export const MAX_PAGES = 500;
/** The multipart envelope around the file (boundaries, part headers, a file name). */
export const MULTIPART_OVERHEAD_BYTES = 16 * 1024;
export const MAX_FILENAME_LENGTH = 255;
