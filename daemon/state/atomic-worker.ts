import { writeFileAtomic } from "./atomic.ts";

/**
 * Worker thread of {@link AtomicWriter}: performs each atomic write (temp
 * file, fsync, rename, folder fsync) so the fsyncs never block the main
 * event loop.
 */
// Inside a worker, `self` is the worker's global scope: it receives the messages and posts the replies.
declare const self: {
  onmessage: ((event: MessageEvent<{ id: number; path: string; data: string }>) => void) | null;
  postMessage(message: { id: number; error?: string }): void;
};

self.onmessage = (event) => {
  const { id, path, data } = event.data;
  try {
    writeFileAtomic(path, data);
    self.postMessage({ id });
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
