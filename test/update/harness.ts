/**
 * Test harness for the update client. A vendor repository is made with the
 * vendor tool's library in a temp folder and served over real HTTP on
 * 127.0.0.1 (port 0). Tests control the clock, read the request log, and
 * inject faults: replace, fail or endlessly stream any published path.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../../daemon/log.ts";
import { UpdateClient, type UpdateClientOptions } from "../../update/client/client.ts";
import { HttpFetcher } from "../../update/client/fetcher.ts";
import type { TopLevelRole } from "../../update/tuf/consts.ts";
import { UpdateError } from "../../update/tuf/errors.ts";
import { parseStrictJson, type JsonObject } from "../../update/tuf/json.ts";
import { signEnvelope, type SigningKey } from "../../update/vendor/keys.ts";
import { type CreateOptions, type ReleaseInput, VendorRepository, expiresAt, metaOf } from "../../update/vendor/repository.ts";

setLogLevel("silent");

export const START_TIME = new Date("2026-12-01T00:00:00Z");
export const DAY_MS = 86_400_000;
export const HARDWARE_ID = "nuc-11-pro";

/** What the server sends for one path instead of the published file. */
export type Override =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "status"; status: number }
  /** An endless-looking body: `total` bytes in 64 KiB chunks, produced only as the client reads. */
  | { kind: "stream"; total: number; declareLength: boolean };

export class RepoServer {
  readonly overrides = new Map<string, Override>();
  readonly requests: string[] = [];
  /** Bytes the server produced for stream overrides, to show the client stopped reading early. */
  streamedBytes = 0;
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor(readonly publicFolder: string) {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.respond(request) });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  stop(): void {
    this.server.stop(true);
  }

  private respond(request: Request): Response {
    const path = decodeURIComponent(new URL(request.url).pathname).slice(1);
    this.requests.push(path);

    const override = this.overrides.get(path);
    if (override?.kind === "bytes") return new Response(override.bytes);
    if (override?.kind === "status") return new Response("", { status: override.status });
    if (override?.kind === "stream") return this.stream(override.total, override.declareLength);

    if (path.includes("..")) return new Response("", { status: 400 });
    try {
      return new Response(readFileSync(join(this.publicFolder, path)));
    } catch {
      return new Response("", { status: 404 });
    }
  }

  private stream(total: number, declareLength: boolean): Response {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (sent >= total) {
          controller.close();
          return;
        }
        const size = Math.min(chunk.length, total - sent);
        sent += size;
        this.streamedBytes += size;
        controller.enqueue(chunk.subarray(0, size));
      },
    });
    const headers: Record<string, string> = declareLength ? { "content-length": String(total) } : {};
    return new Response(body, { headers });
  }
}

export interface Harness {
  folder: string;
  repo: VendorRepository;
  server: RepoServer;
  clientFolder: string;
  clock: { now: Date };
  client(overrides?: Partial<UpdateClientOptions>): UpdateClient;
  /** Writes a release file and adds it to the repository (not yet published). */
  addRelease(input: Partial<ReleaseInput> & Pick<ReleaseInput, "version" | "counter">): string;
  /** Publishes at the current clock time. */
  publish(): void;
  /** Bytes of a published metadata file, for example "timestamp.json" or "3.snapshot.json". */
  published(name: string): Uint8Array;
  /** The stored (trusted) metadata files of the client, by role; undefined when absent. */
  stored(): Partial<Record<TopLevelRole, string>>;
  cleanup(): void;
}

/** Creates a repository with releases 2.3.1 and 2.4.0 on current, published, and a client folder initialised with root v1. */
export function createHarness(options: CreateOptions & { skipReleases?: boolean } = {}): Harness {
  const folder = mkdtempSync(join(tmpdir(), "boxd-update-"));
  const clock = { now: START_TIME };
  const repo = VendorRepository.create(join(folder, "repo"), { ...options, now: START_TIME });
  const server = new RepoServer(join(folder, "repo", "public"));
  const clientFolder = join(folder, "client");
  UpdateClient.initialize(clientFolder, repo.rootBytes());

  const harness: Harness = {
    folder,
    repo,
    server,
    clientFolder,
    clock,
    client: (overrides = {}) =>
      new UpdateClient({
        folder: clientFolder,
        metadataBaseUrl: `${server.baseUrl}/metadata`,
        targetBaseUrl: `${server.baseUrl}/targets`,
        device: { hardwareId: HARDWARE_ID, duisVersions: ["5.1"], gbcsVersions: ["4.0"] },
        running: { version: "2.3.1", counter: 23 },
        fetcher: new HttpFetcher({ requestTimeoutMs: 5_000 }),
        clock: () => clock.now,
        ...overrides,
      }),
    addRelease: (input) => {
      const channel = input.channel ?? "current";
      const kind = input.kind ?? "full";
      const file = join(folder, `${kind === "full" ? "boxd" : "config"}-${input.version}.${kind === "full" ? "img" : "json"}`);
      writeFileSync(file, `${kind} ${input.version} ${channel}\n`);
      return repo.addRelease({
        file,
        kind,
        channel,
        hardwareIds: [HARDWARE_ID],
        duisVersions: ["5.1"],
        gbcsVersions: ["4.0"],
        ...input,
      });
    },
    publish: () => {
      repo.publish(clock.now);
    },
    published: (name) => new Uint8Array(readFileSync(join(repo.metadataFolder, name))),
    stored: () => {
      const files: Partial<Record<TopLevelRole, string>> = {};
      for (const name of readdirSync(clientFolder)) {
        const role = name.replace(/\.json$/, "") as TopLevelRole;
        if (["root", "timestamp", "snapshot", "targets"].includes(role)) {
          files[role] = readFileSync(join(clientFolder, name), "utf8");
        }
      }
      return files;
    },
    cleanup: () => {
      server.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };

  if (options.skipReleases !== true) {
    harness.addRelease({ version: "2.3.1", counter: 23 });
    harness.addRelease({ version: "2.4.0", counter: 24 });
    harness.publish();
  }
  return harness;
}

/** Returns the `signed` object of a published metadata file. */
export function signedOf(harness: Harness, name: string): JsonObject {
  return (parseStrictJson(harness.published(name)) as JsonObject).signed as JsonObject;
}

/** Changes to one role of a forged chain served as overrides. */
export interface Forge {
  /** Edits the `signed` object before signing. */
  edit?: (signed: JsonObject) => void;
  /** Keys to sign with; the repository's keys of the role by default. */
  signers?: SigningKey[];
  /** Edits the signed envelope (parsed) after signing, for example to duplicate a signature. */
  envelope?: (envelope: { signed: JsonObject; signatures: { keyid: string; sig: string }[] }) => void;
  /** Replaces the final bytes. */
  bytes?: (bytes: Uint8Array) => Uint8Array;
}

/**
 * Serves a next targets → snapshot → timestamp chain as overrides, built
 * from the published files, each role forged as asked. Roles not listed
 * are re-signed honestly so the chain stays consistent.
 */
export function serveForgedChain(harness: Harness, forges: Partial<Record<"targets" | "snapshot" | "timestamp", Forge>>): { targets: number; snapshot: number; timestamp: number } {
  const timestampNow = signedOf(harness, "timestamp.json");
  const snapshotVersion = ((timestampNow.meta as JsonObject)["snapshot.json"] as JsonObject).version as number;
  const snapshotNow = signedOf(harness, `${snapshotVersion}.snapshot.json`);
  const targetsVersion = ((snapshotNow.meta as JsonObject)["targets.json"] as JsonObject).version as number;
  const targetsNow = signedOf(harness, `${targetsVersion}.targets.json`);
  const expires = (days: number) => expiresAt(harness.clock.now, days);

  const targets = structuredClone(targetsNow);
  targets.version = targetsVersion + 1;
  targets.expires = expires(90);
  const targetsBytes = forge(harness, "targets", targets, forges.targets);
  harness.server.overrides.set(`metadata/${targets.version}.targets.json`, { kind: "bytes", bytes: targetsBytes });

  const snapshot = structuredClone(snapshotNow);
  snapshot.version = snapshotVersion + 1;
  snapshot.expires = expires(7);
  snapshot.meta = { ...(snapshot.meta as JsonObject), "targets.json": metaOf(targets.version as number, targetsBytes) };
  const snapshotBytes = forge(harness, "snapshot", snapshot, forges.snapshot);
  harness.server.overrides.set(`metadata/${snapshot.version}.snapshot.json`, { kind: "bytes", bytes: snapshotBytes });

  const timestamp = structuredClone(timestampNow);
  timestamp.version = (timestampNow.version as number) + 1;
  timestamp.expires = expires(1);
  timestamp.meta = { "snapshot.json": metaOf(snapshot.version as number, snapshotBytes) };
  const timestampBytes = forge(harness, "timestamp", timestamp, forges.timestamp);
  harness.server.overrides.set("metadata/timestamp.json", { kind: "bytes", bytes: timestampBytes });

  return { targets: targets.version as number, snapshot: snapshot.version as number, timestamp: timestamp.version as number };
}

function forge(harness: Harness, role: TopLevelRole, signed: JsonObject, changes: Forge | undefined): Uint8Array {
  changes?.edit?.(signed);
  let bytes = signEnvelope(signed, changes?.signers ?? harness.repo.keysOf(role));

  if (changes?.envelope !== undefined) {
    const envelope = JSON.parse(new TextDecoder().decode(bytes));
    changes.envelope(envelope);
    bytes = new TextEncoder().encode(JSON.stringify(envelope));
  }
  return changes?.bytes === undefined ? bytes : changes.bytes(bytes);
}

/** Runs `action` and returns the UpdateError it raised; fails the test when it succeeds. */
export async function rejection(action: () => Promise<unknown>): Promise<UpdateError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof UpdateError) return error;
    throw error;
  }
  throw new Error("expected an UpdateError, but the call succeeded");
}

/** Returns the own fields of an error, without the message and stack. */
export function fieldsOf(error: Error): Record<string, unknown> {
  const { message: _message, stack: _stack, ...fields } = { ...error } as Record<string, unknown>;
  return fields;
}

/** Returns the version of the client's stored copy of `role`, or undefined when there is none. */
export function storedVersion(h: Harness, role: TopLevelRole): number | undefined {
  const text = h.stored()[role];
  return text === undefined ? undefined : (JSON.parse(text).signed.version as number);
}

/** Returns the target paths the client requested from the server. */
export function targetRequests(h: Harness): string[] {
  return h.server.requests.filter((path) => path.startsWith("targets/"));
}
