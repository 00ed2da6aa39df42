import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join, basename } from "node:path";

/**
 * Writes `data` to `path` so that a power cut leaves either the old file or
 * the new one, never a mix: temp file in the same folder, fsync, rename,
 * fsync of the folder. Callers acknowledge a change only after this returns.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });

  const temp = join(folder, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, "w", mode);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }

  renameSync(temp, path);
  syncFolder(folder);
}

/** Writes `value` as JSON with {@link writeFileAtomic}. */
export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** Flushes a folder entry, so a rename inside it survives a power cut. */
export function syncFolder(folder: string): void {
  const fd = openSync(folder, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

