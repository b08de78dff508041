// The images a page paints, where it paints them, and their decoded pixels: found by walking the page's
// operator list (pdf.js decodes each image for it), since a Worker has no canvas to render the page with.
import { OPS } from "unpdf/pdfjs";
import type { PdfPage } from "./open.ts";

type Matrix = [number, number, number, number, number, number];

export interface PlacedImage {
  /** pdf.js object id; its pixels are in page.objs once the operator list is built. */
  id: string;
  /** An inline image's pixels, which the operator list carries itself. */
  inline?: ImagePixels;
  width: number;
  height: number;
  /** Share of the page area the image covers (0..1). */
  coverage: number;
}

export interface ImagePixels {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
  /** pdf.js ImageKind: 1 = 1 bit per pixel grayscale, 2 = RGB 24 bpp, 3 = RGBA 32 bpp. */
  kind: number;
}

const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[2] * n[1],
  m[1] * n[0] + m[3] * n[1],
  m[0] * n[2] + m[2] * n[3],
  m[1] * n[2] + m[3] * n[3],
  m[0] * n[4] + m[2] * n[5] + m[4],
  m[1] * n[4] + m[3] * n[5] + m[5],
];

/** Every image painted on the page, with how much of the page it covers. */
export async function placedImages(page: PdfPage): Promise<PlacedImage[]> {
  const ops = await page.getOperatorList();
  const [x0, y0, x1, y1] = page.view as [number, number, number, number];
  const pageArea = Math.abs((x1 - x0) * (y1 - y0)) || 1;
  const stack: Matrix[] = [];
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  const images: PlacedImage[] = [];
  for (let i = 0; i < ops.fnArray.length; i++) {
    const fn = ops.fnArray[i];
    const args = ops.argsArray[i] as unknown[];
    if (fn === OPS.save) stack.push(ctm);
    else if (fn === OPS.restore) ctm = stack.pop() ?? ctm;
    else if (fn === OPS.transform) ctm = multiply(ctm, args as Matrix);
    else if (fn === OPS.paintImageXObject || fn === OPS.paintInlineImageXObject) {
      // An image fills the unit square of the current matrix: its area is |det|.
      const area = Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]);
      const coverage = Math.min(1, area / pageArea);
      if (typeof args[0] === "string") images.push({ id: args[0], width: Number(args[1] ?? 0), height: Number(args[2] ?? 0), coverage });
      else if (args[0] && typeof args[0] === "object") {
        const inline = args[0] as ImagePixels;
        images.push({ id: "", inline, width: inline.width, height: inline.height, coverage });
      }
    }
  }
  return images;
}

/** The decoded pixels of an image found by placedImages (page or document scoped, as pdf.js keeps it). */
export function imagePixels(page: PdfPage, image: PlacedImage): Promise<ImagePixels | null> {
  if (image.inline) return Promise.resolve(image.inline);
  const id = image.id;
  const store = id.startsWith("g_") ? page.commonObjs : page.objs;
  return new Promise((resolve) => {
    try {
      store.get(id, (img: ImagePixels | { bitmap?: unknown } | null) => resolve(img && "data" in img && img.data ? (img as ImagePixels) : null));
    } catch {
      resolve(null);
    }
  });
}
