// The data files pdf.js reads besides the PDF: predefined CMaps (CJK encodings such as UniGB-UCS2-H, and the
// CID -> Unicode maps) and the standard fonts for non-embedded Helvetica, Times, Courier, Symbol, ZapfDingbats.
// They are pdfjs-dist's cmaps/*.bcmap and standard_fonts/*, copied to public/pdfjs/ (scripts/pdfjs-data.mjs)
// and deployed as static assets, which the Worker reads through its ASSETS binding.
// No Worker types here (the Env's Fetcher): scripts/lib/pdf-resources.ts uses this file's types in Node.

/** Where pdf.js's data files are, relative to the static assets' root (public/). */
export const PDFJS_ASSET_DIR = "pdfjs/";

/** Reads a file of the static assets (a path relative to public/, no leading slash); null when there is none. */
export interface PdfResources {
  fetchAsset(path: string): Promise<Uint8Array | null>;
}

// The files never change within a deployment and are small (CMaps ≤ 54 KB, fonts ≤ 162 KB, 2 MB in all), so
// an isolate keeps what it has read: a CJK document does not read the same CMaps again for every page range.
const cache = new Map<string, Promise<Uint8Array | null>>();

/** What assetResources needs of the Env's ASSETS binding (a Fetcher). */
interface AssetsBinding {
  fetch(url: string): Promise<Response>;
}

/** PdfResources from the Worker's static assets; undefined when the ASSETS binding is absent. */
export function assetResources(env: { ASSETS?: AssetsBinding | undefined }): PdfResources | undefined {
  const assets = env.ASSETS;
  if (!assets) return undefined;
  return {
    async fetchAsset(path) {
      let pending = cache.get(path);
      if (!pending) {
        pending = (async () => {
          // The host is never looked at: the binding only serves this Worker's assets.
          const res = await assets.fetch(`https://assets.local/${path}`);
          if (res.status === 404) return null;
          if (!res.ok) throw new Error(`static asset ${path} answered ${res.status}`);
          return new Uint8Array(await res.arrayBuffer());
        })();
        cache.set(path, pending);
        // Only answers are kept: a failed read is tried again by the next document.
        pending.catch(() => cache.delete(path));
      }
      const bytes = await pending;
      // A copy, so nothing pdf.js does with its buffer can reach the cached one.
      return bytes ? bytes.slice() : null;
    },
  };
}
