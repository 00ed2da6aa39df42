/**
 * The fetcher seam of the update client: everything the refresh downloads
 * goes through `Fetcher.fetchBytes`, capped in size as the bytes stream in.
 * Tests pass a real HTTP fetcher against a loopback server.
 */
import { DownloadError, DownloadTooLarge } from "../tuf/errors.ts";

export interface Fetcher {
  /**
   * Downloads `url` into memory. Throws DownloadTooLarge as soon as more
   * than `maxBytes` arrive (the error names `setting`), and DownloadError on
   * any status other than 200 or a failed connection.
   */
  fetchBytes(url: string, maxBytes: number, setting: string): Promise<Uint8Array>;
}

export interface HttpFetcherSettings {
  /** Time allowed for one request, headers and body together, in milliseconds. */
  requestTimeoutMs: number;
}

export const DEFAULT_HTTP_FETCHER_SETTINGS: HttpFetcherSettings = {
  requestTimeoutMs: 30_000,
};

/** Fetcher over HTTP(S) with the runtime's `fetch`. */
export class HttpFetcher implements Fetcher {
  private readonly settings: HttpFetcherSettings;

  constructor(settings: Partial<HttpFetcherSettings> = {}) {
    this.settings = { ...DEFAULT_HTTP_FETCHER_SETTINGS, ...settings };
  }

  async fetchBytes(url: string, maxBytes: number, setting: string): Promise<Uint8Array> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.settings.requestTimeoutMs);
    try {
      return await this.download(url, maxBytes, setting, abort);
    } catch (error) {
      if (error instanceof DownloadError || error instanceof DownloadTooLarge) throw error;

      const reason = abort.signal.aborted ? `timed out after ${this.settings.requestTimeoutMs} ms` : "connection failed";
      throw new DownloadError(url, undefined, reason, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private async download(url: string, maxBytes: number, setting: string, abort: AbortController): Promise<Uint8Array> {
    const response = await fetch(url, { signal: abort.signal, redirect: "error" });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new DownloadError(url, response.status, `HTTP status ${response.status}`);
    }

    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > maxBytes) {
      abort.abort();
      throw new DownloadTooLarge(url, maxBytes, setting);
    }

    const body = response.body;
    if (body === null) return new Uint8Array(0);

    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;

      received += value.length;
      if (received > maxBytes) {
        abort.abort();
        throw new DownloadTooLarge(url, maxBytes, setting);
      }
      chunks.push(value);
    }
    return new Uint8Array(Buffer.concat(chunks, received));
  }
}
