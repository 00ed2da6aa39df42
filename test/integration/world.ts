/**
 * A factory-provisioned box and its outside world on loopback: an update
 * repository made with the vendor library, the lock authority's key and
 * check-in endpoint, and a real boxd started on free ports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBoxd, type Boxd } from "../../daemon/boot.ts";
import { provisionDevice } from "../../provisioning/index.ts";
import type { Channel } from "../../update/client/release.ts";
import { generateKeyPair, type CheckInReport, type Ed25519KeyPair } from "../../update/lock/index.ts";
import { writePublicKeyFile } from "../../update/lock/keys.ts";
import { issueStatement } from "../../update/lock/vendor.ts";
import { VendorRepository } from "../../update/vendor/repository.ts";
import { testConfig } from "../support/harness.ts";

export const HARDWARE_ID = "boxd-test-bench";
export const DEVICE_ID = "boxd-integration-0001";
export const LOCK_MESSAGE = "Reported stolen from the test lab.";
export const LOCK_CONTACT = "DCC service desk, +44 0000 000000";

/** Status and JSON body of one admin API response. */
export interface ApiAnswer {
  status: number;
  body: Record<string, any>;
}

export class World {
  readonly root = mkdtempSync(join(tmpdir(), "boxd-integration-"));
  readonly stateDir = join(this.root, "state");
  readonly vendor: VendorRepository;
  readonly authority: Ed25519KeyPair = generateKeyPair();
  readonly checkIns: CheckInReport[] = [];
  /** Requests the repository server received, as paths. */
  readonly requests: string[] = [];
  adminToken = "";
  /** While set, release downloads wait for it, so a test can observe an install in progress. */
  private downloadGate: Promise<void> | undefined;
  private readonly server: ReturnType<typeof Bun.serve>;

  private constructor() {
    this.vendor = VendorRepository.create(join(this.root, "vendor"));
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.handle(request) });
  }

  /** Creates the repository with releases 1.0.0 and 1.1.0 on current and 2.0.0 on upcoming, and provisions the box. */
  static async create(options: { provision?: boolean } = {}): Promise<World> {
    const world = new World();
    world.addRelease("1.0.0", 10, "current");
    world.addRelease("1.1.0", 11, "current");
    world.addRelease("2.0.0", 20, "upcoming");
    world.vendor.publish();

    if (options.provision !== false) {
      const rootPath = join(world.root, "root.json");
      const lockKeyPath = join(world.root, "lock-authority.pub.json");
      writeFileSync(rootPath, world.vendor.rootBytes());
      writePublicKeyFile(lockKeyPath, world.authority.publicKey);
      const result = await provisionDevice({
        stateDir: world.stateDir,
        rootMetadataPath: rootPath,
        lockAuthorityKeyPath: lockKeyPath,
        allowlist: [],
        force: false,
        deviceId: DEVICE_ID,
      });
      world.adminToken = result.adminToken;
    }
    return world;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get publicFolder(): string {
    return join(this.vendor.folder, "public");
  }

  /** Settings that point the box at this world, as environment-style keys. */
  settings(extra: Record<string, string> = {}): Record<string, string> {
    return {
      BOXD_UPDATE_METADATA_URL: `${this.baseUrl}/repo/metadata`,
      BOXD_UPDATE_TARGETS_URL: `${this.baseUrl}/repo/targets`,
      BOXD_UPDATE_HARDWARE_ID: HARDWARE_ID,
      BOXD_LOCK_CHECK_IN_URL: `${this.baseUrl}/dcc/check-in`,
      BOXD_LOCK_BOOT_REFRESH_TIMEOUT_MS: "5000",
      ...extra,
    };
  }

  /** Starts a real boxd on the state folder. */
  start(extra: Record<string, string> = {}): Promise<Boxd> {
    return startBoxd(testConfig(this.stateDir, this.settings(extra)));
  }

  addRelease(version: string, counter: number, channel: Channel): void {
    const file = join(this.root, `boxd-${version}.img`);
    writeFileSync(file, `boxd image ${version} `.repeat(4096));
    this.vendor.addRelease({
      file,
      kind: "full",
      version,
      counter,
      channel,
      hardwareIds: [HARDWARE_ID],
      duisVersions: ["5.4"],
      gbcsVersions: ["4.2"],
    });
  }

  /** Publishes a lock statement, as the lock authority does. */
  lock(): void {
    issueStatement({ authority: this.authority, repositoryDir: this.publicFolder, deviceId: DEVICE_ID, state: "locked", message: LOCK_MESSAGE, contact: LOCK_CONTACT });
  }

  /** Publishes an unlock statement with the nonce of check-in `index` (default: the latest). */
  unlock(index = -1): void {
    const latest = this.checkIns.at(index);
    if (latest === undefined) {
      throw new Error("the box has not checked in, so no unlock can carry its nonce");
    }
    issueStatement({
      authority: this.authority,
      repositoryDir: this.publicFolder,
      deviceId: DEVICE_ID,
      state: "unlocked",
      message: "",
      contact: "",
      nonce: latest.signed.nonce,
      reportedSequence: latest.signed.lockSequence,
    });
  }

  /** Holds every release download until the returned function is called. */
  holdDownloads(): () => void {
    let release = () => {};
    this.downloadGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.downloadGate = undefined;
      release();
    };
  }

  /** Calls the admin API of `boxd`; `token` defaults to the provisioned admin token. */
  async api(boxd: Boxd, method: string, path: string, body?: unknown, token: string | null = this.adminToken): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";

    const response = await fetch(`http://127.0.0.1:${boxd.ports.admin}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? {} : JSON.parse(text) };
  }

  async close(): Promise<void> {
    await this.server.stop(true);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async handle(request: Request): Promise<Response> {
    const path = decodeURIComponent(new URL(request.url).pathname);
    this.requests.push(path);

    if (path === "/dcc/check-in" && request.method === "POST") {
      this.checkIns.push((await request.json()) as CheckInReport);
      return new Response(null, { status: 204 });
    }

    if (path.startsWith("/repo/targets/")) {
      await this.downloadGate;
    }
    if (path.startsWith("/repo/") && request.method === "GET" && !path.includes("..")) {
      try {
        return new Response(readFileSync(join(this.publicFolder, path.slice("/repo/".length))));
      } catch {
        return new Response("not found", { status: 404 });
      }
    }
    return new Response("not found", { status: 404 });
  }
}
