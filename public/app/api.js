// DocuChat API client for the demo page: same-origin fetch and XHR, one error type for every failure.

/** An API failure: the `{"error":{"code","message","request_id"}}` body, plus Retry-After when there is one. */
export class ApiError extends Error {
  constructor(status, code, message, { retryAfter = null, requestId = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }
}

/** A sentence for people: the API's message, a countdown hint for 429, the request id for 5xx. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  let text = err.message || `Request failed (${err.status})`;
  if (!/[.!?]$/.test(text)) text += ".";
  // Some messages already say how long to wait ("ask again in 60 s").
  if (err.status === 429 && err.retryAfter != null && !text.includes(`${err.retryAfter} s`))
    text += ` Try again in ${formatSeconds(err.retryAfter)}.`;
  if (err.status >= 500 && err.requestId) text += ` (request id ${err.requestId})`;
  return text;
}

/** describeError plus the error code and request id, for the admin view where they help a support ticket. */
export function describeErrorFully(err) {
  if (!(err instanceof ApiError)) return describeError(err);
  const ids = [err.code, err.requestId && !describeError(err).includes(err.requestId) ? `request id ${err.requestId}` : null];
  return `${describeError(err)} (${ids.filter(Boolean).join(", ")})`;
}

export function formatSeconds(s) {
  if (s < 90) return `${s} s`;
  const m = Math.ceil(s / 60);
  return `${m} min`;
}

function retryAfterOf(headers) {
  const raw = headers.get("Retry-After");
  if (!raw) return null;
  const n = Number(raw);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function errorFrom(status, headers, text) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy or the network said something
  }
  const e = body?.error;
  return new ApiError(status, e?.code ?? `http_${status}`, e?.message ?? (text.slice(0, 200) || `Request failed with status ${status}`), {
    retryAfter: retryAfterOf(headers),
    requestId: e?.request_id ?? headers.get("X-Request-Id"),
  });
}

/**
 * @param {{ tenant: () => string, token: () => string | null, onUnauthorized: (err: ApiError) => void }} session
 */
export function createApi(session) {
  const headers = (auth, extra = {}) => {
    /** @type {Record<string, string>} */
    const h = { "X-Tenant-ID": session.tenant(), ...extra };
    if (auth && session.token()) h.Authorization = `Bearer ${session.token()}`;
    return h;
  };

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, auth?: boolean, raw?: boolean }} [options] auth: send the bearer token; raw: return the Response
   */
  async function request(method, path, { body, auth = true, raw = false } = {}) {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: headers(auth, body === undefined ? {} : { "Content-Type": "application/json" }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network_error", "The server cannot be reached. Check your connection and try again.");
    }
    if (!res.ok) {
      const err = errorFrom(res.status, res.headers, await res.text());
      if (auth && res.status === 401) session.onUnauthorized(err);
      throw err;
    }
    if (raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  /**
   * Uploads one PDF with XMLHttpRequest so the bytes sent can be shown. Resolves with { status, doc }.
   * @param {string | null} [collectionId] the collection to add it to; private to the uploader without
   */
  function upload(file, onProgress, collectionId = null) {
    const xhr = new XMLHttpRequest();
    const done = new Promise((resolve, reject) => {
      xhr.open("POST", "/v1/files");
      for (const [k, v] of Object.entries(headers(true))) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => onProgress(e.lengthComputable ? e.loaded / e.total : null, e.loaded);
      xhr.upload.onload = () => onProgress(1, file.size);
      xhr.onload = () => {
        const hdrs = { get: (name) => xhr.getResponseHeader(name) };
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve({ status: xhr.status, doc: JSON.parse(xhr.responseText) });
          } catch {
            reject(new ApiError(xhr.status, "bad_response", "The server answered with something that is not JSON"));
          }
          return;
        }
        const err = errorFrom(xhr.status, hdrs, xhr.responseText);
        if (xhr.status === 401) session.onUnauthorized(err);
        reject(err);
      };
      xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload failed: the server cannot be reached"));
      xhr.onabort = () => reject(new ApiError(0, "aborted", "Upload cancelled"));
      const form = new FormData();
      if (collectionId) form.append("collection_id", collectionId);
      form.append("file", file, file.name);
      xhr.send(form);
    });
    return { done, abort: () => xhr.abort() };
  }

  return {
    request,
    upload,
    get: (path, opts) => request("GET", path, opts),
    post: (path, body, opts) => request("POST", path, { ...opts, body }),
    patch: (path, body, opts) => request("PATCH", path, { ...opts, body }),
    put: (path, body, opts) => request("PUT", path, { ...opts, body }),
    del: (path, opts) => request("DELETE", path, opts),
  };
}
