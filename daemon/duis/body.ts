import { TransportFault } from "./errors.ts";

/**
 * Reads a request body while it streams in and stops as soon as it passes
 * `maxBytes`, so an oversized or endless body never sits in memory whole.
 * A Content-Length over the cap is refused before any byte is read.
 */
export async function readCappedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new TransportFault(413, `request body of ${declared} bytes is over the ${maxBytes}-byte limit (duis.maxBodyBytes)`);
  }
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new TransportFault(413, `request body passed the ${maxBytes}-byte limit (duis.maxBodyBytes) while streaming`);
    }
    chunks.push(value);
  }

  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Returns true when a Content-Type header names `application/xml`, parameters allowed. */
export function isXmlContentType(header: string | null): boolean {
  if (!header) return false;
  return header.split(";", 1)[0]!.trim().toLowerCase() === "application/xml";
}
