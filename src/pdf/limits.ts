// What one PDF page may make pdf.js hold in memory. A Worker has 128 MB; pdf.js (with its fonts), the tokenizer and
// the PDF itself (up to 25 MiB) take about half of it, so no single page may take more than about 40 MB more.

/** 10 MP: an A4 or Letter page scanned at 300 dpi (8.7 MP) is read; a 600 dpi scan or a poster-size photo is not. */
export const MAX_IMAGE_PIXELS = 10_000_000;

/**
 * Decoded bytes of one stream (content, form, font, CMap, object stream). pdf.js holds a stream's decoded bytes
 * in one buffer grown by doubling: 32 MiB peaks at 48 MiB while the last doubling copies. A real page's content is
 * 10 KB to a few MB; vector maps reach tens of MB and are the pages this refuses.
 */
export const MAX_STREAM_BYTES = 32 * 2 ** 20;
/** An image's own stream may hold what pdf.js decodes of an image within MAX_IMAGE_PIXELS: 4 bytes a pixel (CMYK). */
export const MAX_IMAGE_STREAM_BYTES = MAX_IMAGE_PIXELS * 4;
/** Decoded bytes of a page's /Contents array together: pdf.js concatenates them into one more buffer. */
export const MAX_PAGE_CONTENT_BYTES = 32 * 2 ** 20;

/**
 * Text items read from one page's text layer: a dense page drawn glyph by glyph has about 6,000. pdf.js streams
 * them; reading stops here (page_truncated), so a page of millions of tiny items costs tens of MB, not gigabytes.
 */
export const MAX_PAGE_TEXT_ITEMS = 20_000;
/** Characters of text items read from one page, before normalisation (which may shorten it) to MAX_PAGE_CHARS. */
export const MAX_PAGE_READ_CHARS = 100_000;
