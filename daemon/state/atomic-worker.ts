/// <reference lib="webworker" />
import { writeFileAtomic } from "./atomic.ts";

/**
 * Worker thread of {@link AtomicWriter}: performs each atomic write (temp
 * file, fsync, rename, folder fsync) so the fsyncs never block the main
 * event loop.
 */
declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; path: string; data: string }>) => {
  const { id, path, data } = event.data;
  try {
    writeFileAtomic(path, data);
    self.postMessage({ id });
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
