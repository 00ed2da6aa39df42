import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBoxd, type Boxd } from "../../daemon/boot.ts";
import { loadConfig, type Config } from "../../daemon/config/load.ts";

/** Creates a temporary folder that `[Symbol.dispose]` removes. */
export function tempFolder(prefix: string): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), `boxd-${prefix}-`));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Returns a configuration for tests: loopback, free ports, silent logs, the given state folder. */
export function testConfig(stateDirectory: string, overrides: Record<string, string> = {}): Config {
  return loadConfig(undefined, {
    BOXD_STATE_DIRECTORY: stateDirectory,
    BOXD_LOG_LEVEL: "silent",
    BOXD_DUIS_HOST: "127.0.0.1",
    BOXD_DUIS_PORT: "0",
    BOXD_SMKI_HOST: "127.0.0.1",
    BOXD_SMKI_PORT: "0",
    BOXD_ADMIN_HOST: "127.0.0.1",
    BOXD_ADMIN_PORT: "0",
    BOXD_RECEIVER_RETRY_INITIAL_MS: "5",
    BOXD_RECEIVER_RETRY_MAX_MS: "20",
    ...overrides,
  });
}

/** Starts a real boxd on loopback; stop it with `await using`. */
export async function runBoxd(config: Config): Promise<Boxd & AsyncDisposable> {
  const boxd = await startBoxd(config);
  return Object.assign(boxd, { [Symbol.asyncDispose]: () => boxd.stop() });
}

/** POSTs a DUIS body to one of the three services. */
export function postDuis(port: number, service: "S" | "D" | "T", body: string | Uint8Array, contentType = "application/xml"): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/v1/service${service}`, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
}

/** A Receive Response Service on loopback that records what boxd posts and responds with `status`. */
export class ReceiveResponseService {
  readonly received: string[] = [];
  private waiters: Array<() => void> = [];
  private server: ReturnType<typeof Bun.serve> | undefined;
  status = 204;
  /** When true, requests are held open and get no response. */
  hang = false;

  start(port = 0): number {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      idleTimeout: 0,
      fetch: async (request) => {
        const body = await request.text();
        if (this.hang) return new Promise<Response>(() => {});
        if (request.headers.get("content-type")?.startsWith("application/xml") && this.status < 300) {
          this.received.push(body);
          for (const wake of this.waiters.splice(0)) wake();
        }
        return new Response(null, { status: this.status });
      },
    });
    return this.server.port!;
  }

  get url(): string {
    return `127.0.0.1:${this.server!.port}/smartdcc/duis`;
  }

  /** Resolves once `count` messages have been accepted. */
  async waitFor(count: number): Promise<string[]> {
    while (this.received.length < count) await new Promise<void>((wake) => this.waiters.push(wake));
    return this.received;
  }

  stop(): void {
    this.server?.stop(true);
  }
}
