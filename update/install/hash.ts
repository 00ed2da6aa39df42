import { closeSync, openSync, readSync } from "node:fs";
import { HASH_READ_CHUNK_BYTES } from "./settings.ts";

/**
 * Feeds the first `length` bytes of the open file `fd` into `hasher`, reading
 * one reused buffer of {@link HASH_READ_CHUNK_BYTES} so memory stays flat.
 * Returns the number of bytes read, which is less than `length` when the
 * file is shorter.
 */
export function hashFileRange(fd: number, length: number, hasher: Bun.CryptoHasher): number {
  const buffer = Buffer.allocUnsafe(HASH_READ_CHUNK_BYTES);
  let position = 0;

  while (position < length) {
    const wanted = Math.min(buffer.length, length - position);
    const read = readSync(fd, buffer, 0, wanted, position);
    if (read === 0) {
      break;
    }
    hasher.update(buffer.subarray(0, read));
    position += read;
  }
  return position;
}

/** Returns the SHA-256 (lowercase hex) and size of the whole file at `path`. */
export function sha256File(path: string): { sha256: string; length: number } {
  const fd = openSync(path, "r");
  try {
    const hasher = new Bun.CryptoHasher("sha256");
    const length = hashFileRange(fd, Number.MAX_SAFE_INTEGER, hasher);
    return { sha256: hasher.digest("hex"), length };
  } finally {
    closeSync(fd);
  }
}
