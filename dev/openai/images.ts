// Image inputs of vision chat requests (`{type: "image_url", image_url: {url, detail}}` content parts):
// validation worded like the API's, data-URL decoding, format sniffing, the pixel size read from the
// file header (PNG IHDR, JPEG SOF; no image library), and the prompt tokens OpenAI bills per image.
import { invalid } from "./errors.ts";

export type ImageDetail = "low" | "high" | "auto";
export type ImageFormat = "png" | "jpeg";

export interface ImageInput {
  /** Where it sits in the request, e.g. "messages[1].content[1]". */
  param: string;
  data: Buffer;
  format: ImageFormat;
  width: number;
  height: number;
  detail: ImageDetail;
}

/** The real API's per-image limit. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

const FORMATS_MESSAGE =
  "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].";
const badFormat = (why: string) => invalid(`${FORMATS_MESSAGE} (${why})`, null, "invalid_image_format");

/** Chat models that take text only: the API refuses image parts for them. */
const TEXT_ONLY_MODELS = /^(gpt-3\.5|gpt-4-0613|gpt-4-0314|gpt-4$|o1-mini|o3-mini)/;

/**
 * The image parts of already shape-checked chat `messages`, validated and decoded, in request order.
 * Only user messages may carry images (as in the API).
 */
export function imageInputs(messages: unknown[], model: string): ImageInput[] {
  const out: ImageInput[] = [];
  messages.forEach((m, i) => {
    const { role, content } = m as { role: string; content?: unknown };
    if (!Array.isArray(content)) return;
    content.forEach((part, j) => {
      if (!part || typeof part !== "object" || (part as { type?: unknown }).type !== "image_url") return;
      const param = `messages[${i}].content[${j}]`;
      if (role !== "user")
        throw invalid(
          `Invalid 'messages[${i}]'. Image URLs are only allowed for messages with role 'user', but this message with role '${role}' contains an image URL.`,
          `messages[${i}]`,
          "invalid_value",
        );
      if (TEXT_ONLY_MODELS.test(model))
        throw invalid("Invalid content type. image_url is only supported by certain models.", `${param}.type`, "invalid_value");
      out.push(imageInput((part as { image_url?: unknown }).image_url, param));
    });
  });
  return out;
}

function imageInput(imageUrl: unknown, param: string): ImageInput {
  if (imageUrl === undefined || imageUrl === null)
    throw invalid(`Missing required parameter: '${param}.image_url'.`, `${param}.image_url`, "missing_required_parameter");
  if (typeof imageUrl !== "object" || Array.isArray(imageUrl))
    throw invalid(
      `Invalid type for '${param}.image_url': expected an object, but got ${typeName(imageUrl)} instead.`,
      `${param}.image_url`,
      "invalid_type",
    );
  const { url, detail = "auto" } = imageUrl as { url?: unknown; detail?: unknown };
  if (url === undefined || url === null)
    throw invalid(`Missing required parameter: '${param}.image_url.url'.`, `${param}.image_url.url`, "missing_required_parameter");
  if (typeof url !== "string")
    throw invalid(
      `Invalid type for '${param}.image_url.url': expected a string, but got ${typeName(url)} instead.`,
      `${param}.image_url.url`,
      "invalid_type",
    );
  if (detail !== "low" && detail !== "high" && detail !== "auto")
    throw invalid(
      `Invalid value: '${String(detail)}'. Supported values are: 'auto', 'low', and 'high'.`,
      `${param}.image_url.detail`,
      "invalid_value",
    );

  if (/^https?:\/\//i.test(url))
    throw invalid(
      `The OpenAI stand-in cannot download images (${param}.image_url.url is ${JSON.stringify(url.slice(0, 100))}): send the image inline as a base64 data URL (data:image/png;base64,...). The real API would fetch it.`,
      `${param}.image_url.url`,
      "invalid_image_url",
    );
  const m = /^data:([^,]*?),/is.exec(url);
  if (!m)
    throw invalid(
      `Invalid '${param}.image_url.url': expected a URL or a base64 data URL (data:image/png;base64,...).`,
      `${param}.image_url.url`,
      "invalid_image_url",
    );
  const [mediaType = "", ...params] = m[1]!.split(";");
  if (!params.some((p) => p.trim().toLowerCase() === "base64"))
    throw invalid(`Invalid base64 image_url. (${param}: the data URL is not base64-encoded: it lacks ';base64')`, null, "invalid_base64");
  if (mediaType && !/^image\//i.test(mediaType.trim()))
    throw badFormat(`${param}: the data URL's media type is ${JSON.stringify(mediaType)}, not an image type`);

  const b64 = url.slice(m[0].length).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1)
    throw invalid(`Invalid base64 image_url. (${param}: the data after the comma is not valid base64)`, null, "invalid_base64");
  // 4 base64 characters carry 3 bytes: refuse over-large images before decoding them.
  const size = Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
  if (size > MAX_IMAGE_BYTES)
    throw invalid(
      `You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp']. (${param} is ${(size / 1024 / 1024).toFixed(1)} MB)`,
      null,
      "invalid_image_format",
    );
  const data = Buffer.from(b64, "base64");
  if (data.length === 0) throw badFormat(`${param}: the image data is empty`);
  const { format, width, height } = imageInfo(data, param);
  return { param, data, format, width, height, detail };
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "a boolean";
  return "an object";
}

/** The format (from the magic bytes) and pixel size (from the header) of a PNG or JPEG image. */
export function imageInfo(data: Buffer, where = "the image"): { format: ImageFormat; width: number; height: number } {
  const isPng = data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
  let size: { width: number; height: number } | null = null;
  if (isPng) {
    // Signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4), ...
    if (data.length < 24 || data.toString("latin1", 12, 16) !== "IHDR") throw badFormat(`${where}: the PNG has no IHDR header`);
    size = { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  } else if (isJpeg) {
    size = jpegSize(data);
    if (!size) throw badFormat(`${where}: the JPEG has no readable SOF (frame) header`);
  } else {
    const head = data.toString("latin1", 0, 12);
    if (head.startsWith("GIF87a") || head.startsWith("GIF89a") || (head.startsWith("RIFF") && head.slice(8, 12) === "WEBP"))
      throw badFormat(`${where}: GIF and WebP are accepted by the real API but not by this stand-in, which reads PNG and JPEG only`);
    throw badFormat(`${where}: the data is not a PNG or JPEG image`);
  }
  if (size.width < 1 || size.height < 1) throw badFormat(`${where}: the image header gives a size of ${size.width}x${size.height}`);
  return { format: isPng ? "png" : "jpeg", ...size };
}

/** Width and height from the first SOFn marker segment of a JPEG, or null if there is none. */
function jpegSize(data: Buffer): { width: number; height: number } | null {
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) return null; // lost sync: not a well-formed marker stream
    const marker = data[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / start of scan before any frame header
    const length = data.readUInt16BE(i + 2);
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC): length, precision (1), height (2), width (2).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > data.length) return null;
      return { height: data.readUInt16BE(i + 5), width: data.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return null;
}

// How OpenAI bills an image, by model. Tile models: `detail: low` costs the base; high/auto cost the
// base plus a price per 512-px tile of the image scaled to fit 2048×2048, then to a shortest side of
// 768 (never upscaled). Patch models: one unit per 32-px patch (at most 1536, shrinking the image to
// fit), times a multiplier, whatever the detail.
const PATCH_MODELS: [RegExp, number][] = [
  [/^gpt-4\.1-mini/, 1.62],
  [/^gpt-4\.1-nano/, 2.46],
  [/^gpt-5-mini/, 1.62],
  [/^gpt-5-nano/, 2.46],
  [/^o4-mini/, 1.72],
];
const TILE_MODELS: [RegExp, number, number][] = [
  [/^gpt-4o-mini/, 2833, 5667], // priced per token like gpt-4o-mini text, so billed ~33x the tokens of gpt-4o
  [/^(o1|o3)(?!-mini)/, 75, 150],
  [/^gpt-5(?!-mini|-nano)/, 70, 140],
];
const DEFAULT_TILE: [number, number] = [85, 170]; // gpt-4o, gpt-4.1, gpt-4.5, gpt-4-turbo and any other model name

/** The prompt tokens OpenAI bills for one image of this size and detail sent to this model. */
export function imageTokens(model: string, width: number, height: number, detail: ImageDetail = "auto"): number {
  const patch = PATCH_MODELS.find(([re]) => re.test(model));
  if (patch) return Math.ceil(imagePatches(width, height) * patch[1]);
  const found = TILE_MODELS.find(([re]) => re.test(model));
  const [base, tile] = found ? [found[1], found[2]] : DEFAULT_TILE;
  if (detail === "low") return base;
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / Math.max(w, h));
  w = Math.floor(w * fit);
  h = Math.floor(h * fit);
  const short = Math.min(1, 768 / Math.min(w, h));
  w = Math.floor(w * short);
  h = Math.floor(h * short);
  return base + tile * Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** 32-px patches covering the image, after shrinking it to at most 1536 patches (OpenAI's documented procedure). */
export function imagePatches(width: number, height: number): number {
  const P = 32;
  const CAP = 1536;
  const raw = Math.ceil(width / P) * Math.ceil(height / P);
  if (raw <= CAP) return raw;
  const shrink = Math.sqrt((P * P * CAP) / (width * height));
  const adjusted =
    shrink * Math.min(Math.floor((width * shrink) / P) / ((width * shrink) / P), Math.floor((height * shrink) / P) / ((height * shrink) / P));
  return Math.min(CAP, Math.ceil(Math.floor(width * adjusted) / P) * Math.ceil(Math.floor(height * adjusted) / P));
}
