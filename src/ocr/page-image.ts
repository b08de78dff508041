// The image an OCR model reads for a page: the page's largest image, decoded by pdf.js, turned to grayscale,
// scaled so its long side is at most OCR_LONG_SIDE pixels, and encoded as PNG (fast-png, pure JS).
import { encode } from "fast-png";
import type { PdfPage } from "../pdf/open.ts";
import { type ImagePixels, imagePixels, type PlacedImage, placedImages } from "../pdf/page-images.ts";

/** Long side of the image sent to the model: enough for body text, well below the API's 2048 cap. */
export const OCR_LONG_SIDE = 1600;

export interface OcrImage {
  png: Uint8Array;
  width: number;
  height: number;
}

/** The page's largest image as a grayscale PNG, or null when the page paints none. */
export async function pageImage(page: PdfPage, known?: PlacedImage[]): Promise<OcrImage | null> {
  const images = known ?? (await placedImages(page));
  const largest = images.reduce<PlacedImage | null>((best, img) => (!best || img.width * img.height > best.width * best.height ? img : best), null);
  if (!largest) return null;
  const pixels = await imagePixels(page, largest);
  if (!pixels) return null;
  const gray = scaledGray(pixels, OCR_LONG_SIDE);
  return { png: encode({ width: gray.width, height: gray.height, data: gray.data, channels: 1, depth: 8 }), width: gray.width, height: gray.height };
}

/** Grayscale, box-filtered down to fit `longSide` (never enlarged): one output row in memory at a time. */
export function scaledGray(img: ImagePixels, longSide: number): { data: Uint8Array; width: number; height: number } {
  const scale = Math.min(1, longSide / Math.max(img.width, img.height));
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(width * height);
  const read = grayReader(img);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.floor(y / scale);
    const sy1 = Math.max(sy0 + 1, Math.min(img.height, Math.floor((y + 1) / scale)));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.floor(x / scale);
      const sx1 = Math.max(sx0 + 1, Math.min(img.width, Math.floor((x + 1) / scale)));
      let sum = 0;
      for (let sy = sy0; sy < sy1; sy++) for (let sx = sx0; sx < sx1; sx++) sum += read(sx, sy);
      out[y * width + x] = Math.round(sum / ((sy1 - sy0) * (sx1 - sx0)));
    }
  }
  return { data: out, width, height };
}

/** Luma of one source pixel, for each pixel layout pdf.js decodes to. */
function grayReader(img: ImagePixels): (x: number, y: number) => number {
  const { data, width, kind } = img;
  if (kind === 1) {
    // 1 bit per pixel, rows padded to whole bytes, 1 = white.
    const rowBytes = (width + 7) >> 3;
    return (x, y) => (((data[y * rowBytes + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1 ? 255 : 0);
  }
  const channels = kind === 2 ? 3 : 4;
  return (x, y) => {
    const i = (y * width + x) * channels;
    return ((data[i] ?? 0) * 299 + (data[i + 1] ?? 0) * 587 + (data[i + 2] ?? 0) * 114) / 1000;
  };
}
