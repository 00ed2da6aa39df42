/**
 * Atomic file writes on a worker thread. An fsync on the appliance's disk
 * can take milliseconds; done on the main thread it stalls every request in
 * flight, so writes that must reach the disk before a request is answered
 * go through this writer and the caller awaits the result.
 */
export class AtomicWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(new URL("./atomic-worker.ts", import.meta.url));
    this.worker.onmessage = (event: MessageEvent<{ id: number; error?: string }>) => {
      const waiter = this.pending.get(event.data.id);
      if (!waiter) return;
      this.pending.delete(event.data.id);
      if (event.data.error === undefined) waiter.resolve();
      else waiter.reject(new Error(event.data.error));
    };
    // A worker that fails to load or crashes fails every write, so no request waits forever.
    this.worker.onerror = (event: ErrorEvent) => {
      this.failure = new Error(`the atomic-write worker failed: ${event.message}`);
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
    // The worker must not keep the process alive on its own.
    this.worker.unref();
  }

  /** Writes `data` to `path` atomically and resolves once it is on disk. */
  write(path: string, data: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);

    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, path, data });
    });
  }

  close(): void {
    this.worker.terminate();
  }
}
