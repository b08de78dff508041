// PdfResources for Node (benchmarks, scripts): pdf.js's CMaps and standard fonts from public/pdfjs/, the
// folder the Worker deploys as static assets. Pass it to openPdf(bytes, nodePdfResources()).
import { readFile } from "node:fs/promises";
import type { PdfResources } from "../../src/pdf/resources.ts";

const PUBLIC_DIR = new URL("../../public/", import.meta.url);

export function nodePdfResources(publicDir: URL = PUBLIC_DIR): PdfResources {
  return {
    async fetchAsset(path) {
      try {
        return new Uint8Array(await readFile(new URL(path, publicDir)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
  };
}
