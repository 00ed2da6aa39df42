/**
 * Files and folders of the published site (`R/public/`). A web server that
 * runs as another user must read them, so their modes are set with chmod
 * after each create or write: `mkdir` and `open` apply the process umask,
 * and a umask of 077 would otherwise leave the site unreadable.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { syncFolder, writeFileAtomic } from "../../daemon/state/atomic.ts";

/**
 * Mode of the published folders: a web server running as another user
 * must list and enter them. The key folder stays 0700 and key files 0600.
 */
export const PUBLIC_FOLDER_MODE = 0o755;

/** Mode of every published metadata, target and lock statement file, readable by the web server. */
export const PUBLIC_FILE_MODE = 0o644;

/**
 * Creates `folder` and its missing parents with {@link PUBLIC_FOLDER_MODE},
 * whatever the umask, and sets that mode on `folder` itself. Parents that
 * existed before keep their mode.
 */
export function makePublicFolder(folder: string): void {
  const missing: string[] = [];
  for (let current = folder; !existsSync(current); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }

  for (const created of missing) {
    mkdirSync(created, { mode: PUBLIC_FOLDER_MODE });
    chmodSync(created, PUBLIC_FOLDER_MODE);
  }
  chmodSync(folder, PUBLIC_FOLDER_MODE);
}

/**
 * Writes a published file atomically with {@link PUBLIC_FILE_MODE}. The
 * bytes go to a hidden sibling first, whose mode is set before the rename,
 * so the web server never sees the file with a narrower mode.
 */
export function writePublicFile(path: string, data: string | Uint8Array): void {
  const folder = dirname(path);
  const staged = join(folder, `.${basename(path)}.public`);
  writeFileAtomic(staged, data, PUBLIC_FILE_MODE);
  chmodSync(staged, PUBLIC_FILE_MODE);

  renameSync(staged, path);
  syncFolder(folder);
}

/** Copies `source` to the published `path` with {@link PUBLIC_FILE_MODE}, the same way as {@link writePublicFile}. */
export function copyPublicFile(source: string, path: string): void {
  const folder = dirname(path);
  const staged = join(folder, `.${basename(path)}.public`);
  copyFileSync(source, staged);
  chmodSync(staged, PUBLIC_FILE_MODE);

  renameSync(staged, path);
  syncFolder(folder);
}
