import { join, resolve } from "node:path";

/**
 * True inside the binary of `npm run build`. Bun bundles every module of a
 * compiled binary into one, so `import.meta.dir` is the root of the binary's
 * embedded file system (`/$bunfs/root` on Linux and macOS with Bun 1.4).
 */
export const IS_COMPILED = import.meta.dir.startsWith("/$bunfs/");

/**
 * Folder that runtime files (the DUIS schema set, the trust PKI) are read
 * from by their path in the source tree: the repository root under
 * `bun daemon/main.ts`, or the binary's embedded root, where the build
 * stores the same files at the same relative paths.
 */
export const RUNTIME_ROOT = IS_COMPILED ? import.meta.dir : resolve(import.meta.dir, "..");

/** Returns the path of a runtime file or folder, given its path in the source tree, e.g. `runtimePath("daemon", "duis", "schema")`. */
export function runtimePath(...segments: string[]): string {
  return join(RUNTIME_ROOT, ...segments);
}
