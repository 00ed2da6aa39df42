import { STATEMENT_FOLDER } from "./constants.ts";
import { LockSettingInvalid, StatementFetchFailed, StatementTooLarge } from "./errors.ts";

/**
 * Returns the URL of a device's statement: `<repositoryUrl>/lock/<deviceId>.json`.
 * Raises {@link LockSettingInvalid} unless `repositoryUrl` is an http(s) URL.
 */
export function statementUrl(repositoryUrl: string, deviceId: string): string {
  let base: URL;
  try {
    base = new URL(repositoryUrl.endsWith("/") ? repositoryUrl : `${repositoryUrl}/`);
  } catch {
    throw new LockSettingInvalid("repositoryUrl", repositoryUrl, "not a valid URL");
  }

  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new LockSettingInvalid("repositoryUrl", repositoryUrl, "must use http or https");
  }

  return new URL(`${STATEMENT_FOLDER}/${encodeURIComponent(deviceId)}.json`, base).toString();
}

/**
 * Downloads a statement and returns its bytes, or null when the repository has
 * none for this device (HTTP 404). The body is read as a stream and aborted
 * once it passes `maxBytes`, so an endless response cannot fill memory.
 */
export async function fetchStatementBytes(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array | null> {
  const signal = AbortSignal.timeout(timeoutMs);

  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: "error" });
  } catch (error) {
    throw new StatementFetchFailed(url, null, describeFailure(error, timeoutMs));
  }

  if (response.status === 404) {
    await response.body?.cancel();
    return null;
  }

  if (response.status !== 200) {
    await response.body?.cancel();
    throw new StatementFetchFailed(url, response.status, `HTTP status ${response.status}`);
  }

  const declaredLength = Number(response.headers.get("content-length") ?? "0");
  if (declaredLength > maxBytes) {
    await response.body?.cancel();
    throw new StatementTooLarge(url, maxBytes);
  }

  return readCapped(response, url, maxBytes, timeoutMs);
}

async function readCapped(response: Response, url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  if (response.body === null) {
    return new Uint8Array(0);
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }

      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new StatementTooLarge(url, maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof StatementTooLarge) {
      throw error;
    }
    throw new StatementFetchFailed(url, 200, describeFailure(error, timeoutMs));
  }

  return Buffer.concat(chunks, total);
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const name = (error as Error | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return `timed out after fetchTimeoutMs (${timeoutMs} ms)`;
  }
  return String(error);
}
