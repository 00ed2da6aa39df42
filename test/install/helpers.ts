import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../update/install/clock.ts";
import type { UpdateTarget } from "../../update/install/target.ts";

/** A clock that moves only when a test calls {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  private timers = new Map<number, { intervalMs: number; dueMs: number; callback: () => void }>();
  private nextId = 1;

  constructor(private current = 1_800_000_000_000) {}

  now(): number {
    return this.current;
  }

  every(intervalMs: number, callback: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { intervalMs, dueMs: this.current + intervalMs, callback });
    return () => this.timers.delete(id);
  }

  /** Moves time forward by `ms`, firing each due timer at its due time. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let next: { intervalMs: number; dueMs: number; callback: () => void } | undefined;
      for (const timer of this.timers.values()) {
        if (timer.dueMs <= end && (next === undefined || timer.dueMs < next.dueMs)) {
          next = timer;
        }
      }
      if (next === undefined) {
        break;
      }
      this.current = next.dueMs;
      next.dueMs += next.intervalMs;
      next.callback();
    }
    this.current = end;
  }

  get timerCount(): number {
    return this.timers.size;
  }
}

/** Creates a temp folder, removed by the returned disposer. */
export function makeTempDir(prefix: string): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), `boxd-install-${prefix}-`));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Deterministic image bytes: `seed` changes every byte. */
export function makeImage(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export function targetFor(image: Uint8Array, url: string, version: string, name = "boxd.img"): UpdateTarget {
  return { name, url, length: image.length, sha256: sha256Hex(image), custom: { version } };
}

/** What the test server does with one request. */
export type Behaviour =
  | { kind: "serve" } // 200, or 206 for a Range request
  | { kind: "ignore-range" } // always 200 with the whole image
  | { kind: "wrong-content-range"; shift: number } // 206 that starts `shift` bytes off
  | { kind: "drop"; fraction: number } // Content-Length of the whole image, then ends after `fraction`
  | { kind: "reset"; fraction: number } // sends `fraction`, then resets the connection
  | { kind: "extra"; bytes: number; declare: boolean } // image plus `bytes` more, with or without Content-Length
  | { kind: "drip" } // headers, then one byte per `release()` call of the test
  | { kind: "status"; status: number }
  | { kind: "other-image"; image: Uint8Array }; // a different file of the same length

export interface RequestRecord {
  range: string | null;
  behaviour: Behaviour["kind"];
}

/**
 * A loopback HTTP server on port 0 that serves `image` according to the
 * behaviour queue: each request takes the next behaviour, and the last one
 * repeats. Requests are recorded so tests can assert Range headers.
 */
export class ImageServer {
  readonly requests: RequestRecord[] = [];
  readonly url: string;
  private readonly server: ReturnType<typeof Bun.serve>;
  private dripPermits = 0;
  private dripWaiter: (() => void) | null = null;
  private requestWaiters: Array<() => void> = [];

  constructor(
    private readonly image: Uint8Array,
    private readonly behaviours: Behaviour[],
  ) {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => this.handle(request),
      error: () => new Response(null, { status: 500 }),
    });
    this.url = `http://127.0.0.1:${this.server.port}/boxd.img`;
  }


  /** Resolves when the server has received `count` requests in total. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const check = () => (this.requests.length >= count ? resolve() : this.requestWaiters.push(check));
      this.requestWaiters.push(check);
    });
  }

  [Symbol.dispose](): void {
    this.server.stop(true);
  }

  private handle(request: Request): Response {
    const behaviour = this.behaviours[Math.min(this.requests.length, this.behaviours.length - 1)]!;
    const range = request.headers.get("range");
    this.requests.push({ range, behaviour: behaviour.kind });
    const waiters = this.requestWaiters;
    this.requestWaiters = [];
    for (const waiter of waiters) {
      waiter();
    }

    const image = this.image;
    const start = range === null ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);

    switch (behaviour.kind) {
      case "serve":
        if (range === null) {
          return new Response(image, { headers: { "content-length": String(image.length) } });
        }
        return new Response(image.subarray(start), {
          status: 206,
          headers: { "content-range": `bytes ${start}-${image.length - 1}/${image.length}` },
        });
      case "ignore-range":
        return new Response(image);
      case "wrong-content-range": {
        const shifted = start + behaviour.shift;
        return new Response(image.subarray(shifted), {
          status: 206,
          headers: { "content-range": `bytes ${shifted}-${image.length - 1}/${image.length}` },
        });
      }
      case "drop":
        return this.partialResponse(image, Math.floor(image.length * behaviour.fraction), false);
      case "reset":
        return this.partialResponse(image, Math.floor(image.length * behaviour.fraction), true);
      case "extra": {
        const body = new Uint8Array(image.length + behaviour.bytes);
        body.set(image);
        if (behaviour.declare) {
          return new Response(body);
        }
        return new Response(new Blob([body]).stream());
      }
      case "drip":
        return this.dripResponse(image);
      case "status":
        return new Response("not here", { status: behaviour.status });
      case "other-image":
        return new Response(behaviour.image);
    }
  }

  /** Sends `count` bytes of a response that declares the whole image, then ends or resets. */
  private partialResponse(image: Uint8Array, count: number, reset: boolean): Response {
    const server = this.server;
    const body = new ReadableStream({
      type: "direct",
      async pull(controller: ReadableStreamDirectController) {
        controller.write(image.subarray(0, count));
        await controller.flush();
        if (reset) {
          server.stop(true);
          return;
        }
        controller.close();
      },
    } as unknown as ConstructorParameters<typeof ReadableStream>[0]);
    return new Response(body, { headers: { "content-length": String(image.length) } });
  }

  /** Sends headers, then one byte each time the test calls {@link releaseByte}. */
  private dripResponse(image: Uint8Array): Response {
    let position = 0;
    const nextPermit = () => this.takeDripPermit();
    const body = new ReadableStream({
      type: "direct",
      async pull(controller: ReadableStreamDirectController) {
        while (position < image.length) {
          await nextPermit();
          controller.write(image.subarray(position, position + 1));
          await controller.flush();
          position += 1;
        }
        controller.close();
      },
    } as unknown as ConstructorParameters<typeof ReadableStream>[0]);
    return new Response(body, { headers: { "content-length": String(image.length) } });
  }

  private takeDripPermit(): Promise<void> {
    if (this.dripPermits > 0) {
      this.dripPermits -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.dripWaiter = resolve;
    });
  }

  /** Lets a drip response send one more byte. */
  releaseByte(): void {
    const waiter = this.dripWaiter;
    if (waiter === null) {
      this.dripPermits += 1;
      return;
    }
    this.dripWaiter = null;
    waiter();
  }
}
