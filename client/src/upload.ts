// Multipart upload with progress: XMLHttpRequest where it exists (browsers report upload bytes), fetch elsewhere
// (Node's fetch has no upload progress, so it reports 0 before and the total after).
import { errorFromResponse } from "./errors.ts";

export interface UploadProgress {
  loaded: number;
  total: number;
}

interface UploadOptions {
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export async function uploadWithProgress(
  url: string,
  file: Blob,
  filename: string,
  headers: Record<string, string>,
  opts: UploadOptions,
): Promise<unknown> {
  const form = new FormData();
  form.append("file", file, filename);
  if (typeof XMLHttpRequest !== "undefined") return viaXhr(url, form, headers, file.size, opts);
  opts.onProgress?.({ loaded: 0, total: file.size });
  const response = await (opts.fetch ?? fetch)(url, { method: "POST", headers, body: form, signal: opts.signal });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw errorFromResponse(response, body);
  opts.onProgress?.({ loaded: file.size, total: file.size });
  return body;
}

function viaXhr(url: string, form: FormData, headers: Record<string, string>, size: number, opts: UploadOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : size });
    xhr.onerror = () => reject(new TypeError("Upload failed: network error"));
    xhr.onabort = () => reject(opts.signal?.reason ?? new DOMException("Upload aborted", "AbortError"));
    xhr.onload = () => {
      // Rebuilding a Response gives both paths the same error handling (status, headers, JSON error body).
      const response = new Response(xhr.responseText, { status: xhr.status, headers: parseHeaders(xhr.getAllResponseHeaders()) });
      const body: unknown = safeJson(xhr.responseText);
      if (response.ok) resolve(body);
      else reject(errorFromResponse(response, body));
    };
    opts.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return headers;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
