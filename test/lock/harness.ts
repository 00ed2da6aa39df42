import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { setLogLevel } from "../../daemon/log.ts";
import {
  generateKeyPair,
  publicKeyObject,
  RemoteLock,
  type CheckInReport,
  type Ed25519KeyPair,
  type LockLimits,
} from "../../update/lock/index.ts";

setLogLevel("silent");

/** Response override for one request path, for transport and size failures. */
export type Override = () => Response;

/**
 * Loopback update repository and lock authority. It serves files from a temp
 * folder at `/repo/...` and records check-ins POSTed to `/dcc/check-in`. The
 * latest one is saved to `latestCheckInPath`, as the lock authority would.
 */
export class LockWorld {
  readonly root = mkdtempSync(join(tmpdir(), "boxd-lock-"));
  readonly stateDir = join(this.root, "state");
  readonly repositoryDir = join(this.root, "repo");
  readonly latestCheckInPath = join(this.root, "dcc", "latest-check-in.json");
  readonly authority: Ed25519KeyPair = generateKeyPair();
  /** A key of an update repository role (for example timestamp or targets), never valid for the lock. */
  readonly targetsRoleKey: Ed25519KeyPair = generateKeyPair();
  readonly identity: Ed25519KeyPair = generateKeyPair();
  readonly deviceId = "boxd-0a1b2c3d4e5f6071";
  readonly checkIns: CheckInReport[] = [];
  readonly overrides = new Map<string, Override>();
  checkInStatus = 200;
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => this.handle(request),
    });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get repositoryUrl(): string {
    return `${this.baseUrl}/repo`;
  }

  get checkInUrl(): string {
    return `${this.baseUrl}/dcc/check-in`;
  }

  get statementPath(): string {
    return `/repo/lock/${this.deviceId}.json`;
  }

  /** Opens the box side as the daemon does at boot, from what is on disk. */
  open(overrides: { deviceId?: string; limits?: Partial<LockLimits>; repositoryUrl?: string } = {}): RemoteLock {
    return RemoteLock.open({
      stateDir: this.stateDir,
      deviceId: overrides.deviceId ?? this.deviceId,
      authorityKey: publicKeyObject(this.authority.publicKey),
      identity: this.identity,
      repositoryUrl: overrides.repositoryUrl ?? this.repositoryUrl,
      checkInUrl: this.checkInUrl,
      ...(overrides.limits === undefined ? {} : { limits: overrides.limits }),
    });
  }

  /** Writes raw JSON (for example a forged statement) as the device's statement in the repository. */
  publishRaw(value: unknown, deviceId = this.deviceId): void {
    writeJsonAtomic(join(this.repositoryDir, "lock", `${deviceId}.json`), value, 0o644);
  }

  /** Writes `text` unchanged as the device's statement in the repository. */
  publishText(text: string): void {
    writeFileAtomic(join(this.repositoryDir, "lock", `${this.deviceId}.json`), text, 0o644);
  }

  async close(): Promise<void> {
    await this.server.stop(true);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const override = this.overrides.get(path);
    if (override !== undefined) {
      return override();
    }

    if (path === "/dcc/check-in" && request.method === "POST") {
      const report = (await request.json()) as CheckInReport;
      this.checkIns.push(report);
      writeJsonAtomic(this.latestCheckInPath, report);
      return new Response(null, { status: this.checkInStatus });
    }

    if (path.startsWith("/repo/") && request.method === "GET") {
      const file = Bun.file(join(this.repositoryDir, path.slice("/repo/".length)));
      return (await file.exists()) ? new Response(file) : new Response("not found", { status: 404 });
    }

    return new Response("not found", { status: 404 });
  }
}
