// Builds small PDFs for tests. Pure TypeScript (no Node APIs): runs inside workerd and in Node.
// Objects are written uncompressed, with a classic xref table whose offsets are exact.

/** Latin-1 string -> bytes: PDF syntax is bytes, and stream data here is built as one char per byte. */
function latin1(s: string): Uint8Array {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`pdf-factory: non-Latin-1 character U+${c.toString(16)} in PDF bytes`);
    bytes[i] = c;
  }
  return bytes;
}

/**
 * Serialises objects (objects[i] is object number i + 1, object 1 is the catalog) with header, xref
 * table and trailer; `trailerExtra` goes into the trailer dictionary.
 */
function writePdf(objects: string[], trailerExtra = ""): Uint8Array {
  // The comment line of high bytes marks the file as binary, as PDF writers do.
  let out = "%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  // Each xref entry is exactly 20 bytes: 10-digit offset, space, 5-digit generation, space, n/f, space, LF.
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1(out);
}

const stream = (dict: string, data: string) => `<< ${dict}${dict ? " " : ""}/Length ${data.length} >>\nstream\n${data}\nendstream`;

const HELVETICA = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
const MEDIA_BOX = "[0 0 612 792]";

/** PDF literal string contents: escape delimiters; anything outside printable ASCII becomes '?'. */
const pdfString = (s: string) => s.replace(/[^\x20-\x7e]/g, "?").replace(/[\\()]/g, "\\$&");

/** Wraps a line at spaces to at most width characters (longer words are cut). */
function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let current = "";
  for (let word of line.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (current) out.push(current);
      out.push(word.slice(0, width));
      word = word.slice(width);
      current = "";
    }
    if (!current) current = word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = word;
    }
  }
  if (current) out.push(current);
  return out;
}

/** Content stream drawing lines top-down in 11 pt Helvetica; a blank input line leaves a blank line. */
function textContent(text: string): string {
  const lines = text.split("\n").flatMap((line) => (line.trim() ? wrap(line, 90) : [""]));
  // Lines past the bottom margin run off the page; pdf.js still extracts them.
  return `BT\n/F1 11 Tf\n14 TL\n50 742 Td\n${lines.map((l) => `(${pdfString(l)}) Tj T*`).join("\n")}\nET`;
}

/** Catalog, page tree, one font; the pages' contents are given as object bodies (one per page). */
function pagesPdf(pageContents: string[], extraObjects: string[] = [], trailerExtra = "", pageResources?: string): Uint8Array {
  // 1 catalog, 2 pages, 3 font, then per page: page object + content stream; then extras.
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA];
  const kids: string[] = [];
  for (const content of pageContents) {
    const pageNum = objects.length + 1;
    kids.push(`${pageNum} 0 R`);
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources ${pageResources ?? "<< /Font << /F1 3 0 R >> >>"} /Contents ${pageNum + 1} 0 R >>`,
    );
    objects.push(stream("", content));
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${kids.length} >>`;
  return writePdf([...objects, ...extraObjects], trailerExtra);
}

/** One page per string, ASCII text in Helvetica; long lines are wrapped, "\n" starts a new line. */
export function makeTextPdf(pages: string[]): Uint8Array {
  if (pages.length === 0) throw new Error("makeTextPdf: at least one page");
  return pagesPdf(pages.map(textContent));
}

/**
 * One page per string, each also painting its own gray image of `imageBytes` bytes of noise (incompressible, as a
 * photo is), stored beside the page: a file that is mostly images, each of them read with its page only.
 */
export function makeIllustratedTextPdf(pages: string[], imageBytes: number): Uint8Array {
  const width = 256;
  if (imageBytes % width) throw new Error(`makeIllustratedTextPdf: imageBytes must be a multiple of ${width}`);
  let seed = 1;
  const noise = () => {
    const bytes = new Array<string>(imageBytes);
    for (let i = 0; i < imageBytes; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      bytes[i] = String.fromCharCode(seed >>> 24);
    }
    return bytes.join("");
  };
  // 1 catalog, 2 pages, 3 font, the page objects (together, as qpdf writes them), then each page's content and image.
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA];
  const kids = pages.map((_, i) => `${4 + i} 0 R`);
  const contentOf = (i: number) => 4 + pages.length + 2 * i;
  for (let i = 0; i < pages.length; i++)
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> /XObject << /Im1 ${contentOf(i) + 1} 0 R >> >> /Contents ${contentOf(i)} 0 R >>`,
    );
  for (const text of pages)
    objects.push(
      stream("", `${textContent(text)}\nq 256 0 0 ${imageBytes / width} 50 50 cm /Im1 Do Q`),
      stream(`/Type /XObject /Subtype /Image /Width ${width} /Height ${imageBytes / width} /ColorSpace /DeviceGray /BitsPerComponent 8`, noise()),
    );
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${kids.length} >>`;
  return writePdf(objects);
}

/** count pages that all show the word "Page", sharing one content stream so 501 pages stay ~60 KB. */
export function makeBlankPagesPdf(count: number): Uint8Array {
  if (count < 1) throw new Error("makeBlankPagesPdf: at least one page");
  // 1 catalog, 2 pages, 3 font, 4 shared content, then the pages.
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA, stream("", "BT /F1 12 Tf 72 720 Td (Page) Tj ET")];
  const kids: string[] = [];
  for (let i = 0; i < count; i++) {
    kids.push(`${objects.length + 1} 0 R`);
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>`);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${count} >>`;
  return writePdf(objects);
}

/** One page showing only a small uncompressed RGB image: no text at all (a "scanned" document). */
export function makeImageOnlyPdf(): Uint8Array {
  const size = 16;
  let pixels = "";
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) pixels += String.fromCharCode(x * 16, y * 16, ((x + y) * 8) & 0xff);
  }
  // Objects 1-3 and the page (4) + content (5) come from pagesPdf; the image is object 6.
  const image = stream(`/Type /XObject /Subtype /Image /Width ${size} /Height ${size} /ColorSpace /DeviceRGB /BitsPerComponent 8`, pixels);
  return pagesPdf(["q 200 0 0 200 206 296 cm /Im1 Do Q"], [image], "", "<< /XObject << /Im1 6 0 R >> >>");
}

/**
 * A one-page PDF behind the standard security handler (RC4 40-bit, revision 2) whose /U entry does
 * not match the empty user password, so readers must ask for a password: pdf.js rejects with a
 * PasswordException.
 */
export function makeEncryptedPdf(): Uint8Array {
  const hex = (seed: number) => Array.from({ length: 32 }, (_, i) => ((seed * (i + 7) * 31) & 0xff).toString(16).padStart(2, "0")).join("");
  const id = "5d1b1b0a3c2e4f60718293a4b5c6d7e8";
  // Objects 1-3, page 4, content 5 (its bytes would be encrypted; nobody gets that far); /Encrypt is 6.
  const encrypt = `<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${hex(3)}> /U <${hex(5)}> /P -4 >>`;
  return pagesPdf([textContent("Secret text")], [encrypt], ` /Encrypt 6 0 R /ID [<${id}> <${id}>]`);
}

/** A file that starts like a PDF but is not one: "%PDF-1.7" then deterministic junk. */
export function makeGarbagePdf(size = 2048): Uint8Array {
  let s = "%PDF-1.7\n";
  let x = 12345;
  while (s.length < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(32 + (x % 95));
  }
  return latin1(s);
}

/** The first n bytes of a file (a copy), as an interrupted upload would leave it. */
export function truncate(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.slice(0, Math.max(0, n));
}

/**
 * Three pages of text where page 2 is broken: its /Kids entry points at an object that does not exist, so
 * pdf.js fails on that page alone (the other pages read fine).
 */
export function makeBrokenPagePdf(pages: [string, string, string]): Uint8Array {
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA];
  const kids: string[] = [];
  pages.forEach((text, i) => {
    const pageNum = objects.length + 1;
    kids.push(i === 1 ? "99 0 R" : `${pageNum} 0 R`);
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageNum + 1} 0 R >>`);
    objects.push(stream("", textContent(text)));
  });
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count 3 >>`;
  return writePdf(objects);
}

/** A page tree that contains itself: every page lookup loops. */
export function makeCyclicPagesPdf(): Uint8Array {
  return writePdf(["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 2 >>"]);
}

/**
 * A filled-in form: one page with a printed label, a text field whose value is `value` (with an appearance
 * stream, as a viewer saves it) and a free-text annotation saying `note`.
 */
export function makeFilledFormPdf(label: string, value: string, note: string): Uint8Array {
  // 1 catalog, 2 pages, 3 font, 4 page, 5 content, 6 field widget, 7 its appearance, 8 free text.
  const appearance = stream(
    "/Type /XObject /Subtype /Form /BBox [0 0 300 20] /Resources << /Font << /F1 3 0 R >> >>",
    `/Tx BMC BT /F1 11 Tf 2 5 Td (${pdfString(value)}) Tj ET EMC`,
  );
  return writePdf([
    "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /DA (/F1 11 Tf 0 g) /DR << /Font << /F1 3 0 R >> >> >> >>",
    "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
    HELVETICA,
    `<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [6 0 R 8 0 R] >>`,
    stream("", textContent(label)),
    `<< /Type /Annot /Subtype /Widget /FT /Tx /T (field1) /V (${pdfString(value)}) /DA (/F1 11 Tf 0 g) /Rect [50 680 350 700] /P 4 0 R /F 4 /AP << /N 7 0 R >> >>`,
    appearance,
    `<< /Type /Annot /Subtype /FreeText /Rect [50 600 400 640] /Contents (${pdfString(note)}) /DA (/F1 11 Tf 0 g) /F 4 /P 4 0 R >>`,
  ]);
}

/** UTF-16 code units of s as big-endian hex, the char codes of a UCS-2 / UTF-16 CMap. */
const utf16Hex = (s: string) =>
  [...s]
    .map((ch) => ch.charCodeAt(0).toString(16).padStart(4, "0"))
    .join("")
    .toUpperCase();

/**
 * One page of Chinese text shown as a PDF writer without font embedding writes it: a Type0 font whose
 * /Encoding is the predefined CMap UniGB-UCS2-H (char codes are UCS-2) over a non-embedded CIDFontType0
 * (STSong-Light, Adobe-GB1). Nothing in the file maps the codes to Unicode: a reader needs the predefined
 * CMaps (UniGB-UCS2-H for code -> CID, Adobe-GB1-UCS2 for CID -> Unicode) to get the text.
 * Each line is one `Tj` (BMP characters only).
 */
export function makeCjkPdf(lines: string[]): Uint8Array {
  if (lines.length === 0) throw new Error("makeCjkPdf: at least one line");
  const show = lines.map((line) => `<${utf16Hex(line)}> Tj T*`).join("\n");
  const content = `BT\n/F1 18 Tf\n26 TL\n72 720 Td\n${show}\nET`;
  // Objects 1-3 and the page (4) + content (5) come from pagesPdf; the Type0 font is 6, its CIDFont 7, descriptor 8.
  const type0 = "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [7 0 R] >>";
  const cidFont =
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> " +
    "/FontDescriptor 8 0 R /DW 1000 >>";
  const descriptor =
    "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>";
  return pagesPdf([content], [type0, cidFont, descriptor], "", "<< /Font << /F1 6 0 R >> >>");
}

/** `prefix` (Latin-1) before the bytes of a PDF, as some mail gateways and CGI scripts leave them. */
export function withLeadingBytes(pdf: Uint8Array, prefix: string): Uint8Array {
  const head = latin1(prefix);
  const out = new Uint8Array(head.length + pdf.length);
  out.set(head);
  out.set(pdf, head.length);
  return out;
}

/**
 * One page painting a side × side 8-bit gray image of white, Flate-compressed: a file of a few hundred KB that
 * decodes into side² bytes or more (a decompression bomb). The pixels are streamed through CompressionStream.
 */
export async function makeHugeImagePdf(side: number): Promise<Uint8Array> {
  function* pixels() {
    const row = new Uint8Array(1 << 20).fill(255);
    for (let left = side * side; left > 0; left -= row.length) yield left >= row.length ? row : row.subarray(0, left);
  }
  const image = stream(
    `/Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode`,
    await deflate(pixels()),
  );
  return pagesPdf(["q 612 0 0 792 0 0 cm /Im1 Do Q"], [image], "", "<< /XObject << /Im1 6 0 R >> >>");
}

/**
 * One page laid out as LaTeX's twocolumn does: the left column's lines drawn first, then the right column's at the
 * same heights; then a table whose rows are drawn cell by cell across the page.
 */
export function makeColumnsAndTablePdf(left: string[], right: string[], table: string[][]): Uint8Array {
  const column = (x: number, lines: string[]) => `BT /F1 10 Tf 12 TL ${x} 740 Td ${lines.map((l) => `(${pdfString(l)}) Tj T*`).join(" ")} ET`;
  const rows = table.map((cells, r) =>
    cells.map((cell, c) => `BT /F1 10 Tf ${50 + c * 170} ${400 - r * 14} Td (${pdfString(cell)}) Tj ET`).join("\n"),
  );
  return pagesPdf([[column(50, left), column(320, right), ...rows].join("\n")]);
}

/** Stream data (one char per byte) of the pieces, Flate-compressed by CompressionStream as they come. */
async function deflate(pieces: Iterable<Uint8Array | string>): Promise<string> {
  const deflater = new CompressionStream("deflate");
  const compressed = new Response(deflater.readable).arrayBuffer();
  const writer = deflater.writable.getWriter();
  for (const piece of pieces) await writer.write((typeof piece === "string" ? latin1(piece) : piece) as Uint8Array<ArrayBuffer>);
  await writer.close();
  const bytes = new Uint8Array(await compressed);
  let data = "";
  for (let i = 0; i < bytes.length; i += 8192) data += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return data;
}

const SENTENCES = [
  "The committee reviewed the quarterly figures and asked for a revised forecast.",
  "Shipping volumes through the northern corridor rose for the third month in a row.",
  "Every warehouse reported its inventory before the audit deadline.",
  "The new routing software cut average delivery times by eleven percent.",
  "Fuel costs remain the largest uncertainty in next year's budget.",
  "Two regional offices will merge their accounting teams in the spring.",
  "Customer complaints about late parcels fell after the extra shift was added.",
  "The board approved the purchase of twelve electric vans for city routes.",
];

/**
 * `pages` pages (default 1) whose Flate-compressed content streams each draw `chars` characters of text (a
 * compressed-text bomb: a few tens of KB of file, megabytes of text), in lines of a fifth of a point so that all of
 * it lies on the page (pdf.js drops text drawn outside it). `seed` varies the text so that several such files differ.
 */
export async function makeCompressedTextPdf(chars: number, { seed = 0, pages = 1 } = {}): Promise<Uint8Array> {
  function* lines() {
    let batch = "BT /F1 0.2 Tf 0.2 TL 10 785 Td\n";
    for (let i = 0, drawn = 0; drawn < chars; i++) {
      // Sixteen distinct lines of ~1,200 characters repeat within deflate's 32 KB window: it compresses ~140:1.
      const line = `Entry ${seed}.${i % 16}: ${Array.from({ length: 14 }, (_, k) => SENTENCES[(i + k) % SENTENCES.length]).join(" ")}`;
      drawn += line.length + 1;
      batch += `(${pdfString(line)}) Tj T*\n`;
      if (batch.length >= 1 << 20) {
        yield batch;
        batch = "";
      }
    }
    yield `${batch}ET`;
  }
  // Every page draws the same content stream (object 4); the pages follow it.
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA, stream("/Filter /FlateDecode", await deflate(lines()))];
  const kids = Array.from({ length: pages }, (_, i) => `${objects.length + 1 + i} 0 R`);
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${pages} >>`;
  for (let i = 0; i < pages; i++)
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>`);
  return writePdf(objects);
}

/**
 * A page whose content is `mib` MiB of whitespace, Flate-compressed to about 1 KB a MiB (a decompression bomb:
 * pdf.js keeps every byte of a content stream it has decoded), after a page that draws `text` when it is given.
 * `layers: 2` compresses the stream twice (/Filter [/FlateDecode /FlateDecode]: a few hundred bytes); `repeat`
 * lists the stream that many times in the page's /Contents array, each under any per-stream limit, together over it;
 * `asImage` declares the stream a small image, which pdf.js ignores when the stream is drawn as content.
 */
export async function makeWhitespaceBombPdf(
  mib: number,
  { text, repeat = 1, layers = 1, asImage = false }: { text?: string; repeat?: number; layers?: 1 | 2; asImage?: boolean } = {},
): Promise<Uint8Array> {
  function* spaces() {
    const chunk = " ".repeat(1 << 20);
    for (let i = 0; i < mib; i++) yield chunk;
  }
  let data = await deflate(spaces());
  if (layers === 2) data = await deflate([data]);
  const image = asImage ? "/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 " : "";
  const filter = `${image}${layers === 2 ? "/Filter [/FlateDecode /FlateDecode]" : "/Filter /FlateDecode"}`;
  const contents = repeat === 1 ? "BOMB" : `[${Array.from({ length: repeat }, () => "BOMB").join(" ")}]`;
  // 1-3 as usual, then (text page + its content,) the bomb page and the bomb.
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", HELVETICA];
  const kids: string[] = [];
  const page = (contentRef: string) =>
    `<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentRef} >>`;
  if (text !== undefined) {
    kids.push(`${objects.length + 1} 0 R`);
    objects.push(page(`${objects.length + 2} 0 R`), stream("", textContent(text)));
  }
  kids.push(`${objects.length + 1} 0 R`);
  const bomb = `${objects.length + 2} 0 R`;
  objects.push(page(contents.replaceAll("BOMB", bomb)), stream(filter, data));
  objects[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${kids.length} >>`;
  return writePdf(objects);
}

/** One page showing `count` one-letter text items ("a") in a grid, each far enough from the next to stay its own item. */
export async function makeManyTextItemsPdf(count: number): Promise<Uint8Array> {
  const columns = 200;
  let content = "BT /F1 1 Tf 6 780 Td\n";
  for (let i = 0; i < count; i++) content += i % columns === columns - 1 ? `(a) Tj ${-3 * (columns - 1)} -2 Td\n` : "(a) Tj 3 0 Td ";
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [4 0 R] /Count 1 >>", HELVETICA];
  objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox ${MEDIA_BOX} /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>`);
  objects.push(stream("/Filter /FlateDecode", await deflate([`${content}ET`])));
  return writePdf(objects);
}
