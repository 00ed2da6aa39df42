/**
 * The vendor's TUF repository, as files in one folder:
 * - `keys/`: private keys, one file per key, mode 0600 (never served);
 * - `repository.json`: the working state (latest root, target list, versions);
 * - `public/metadata/`: `N.root.json` for every root version, `root.json`
 *   (the latest, for bootstrapping boxes), `V.snapshot.json`,
 *   `V.targets.json` and the unversioned `timestamp.json`;
 * - `public/targets/<channel>/<sha256>.<file>`: the release files.
 * `public/` is the whole published site; any static web server can serve it.
 * Its folders are created 0755 and its files 0644, so a web server running
 * as another user can read them; `keys/` stays 0700 with 0600 files.
 * Consistent snapshots are always on (TUF 4.4, "consistent_snapshot").
 */
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { createHash } from "node:crypto";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { SPEC_VERSION, TOP_LEVEL_ROLES, type TopLevelRole } from "../tuf/consts.ts";
import type { JsonObject } from "../tuf/json.ts";
import type { KeyRecord } from "../tuf/keys.ts";
import { floorKey, requireSemver, type Channel, type ReleaseKind } from "../client/release.ts";
import { InvalidArgument } from "../tuf/errors.ts";
import { generateKey, loadKeys, retireKeys, saveKey, signEnvelope, type KeyType, type SigningKey } from "./keys.ts";
import { copyPublicFile, makePublicFolder, writePublicFile } from "./public-files.ts";

export { PUBLIC_FILE_MODE, PUBLIC_FOLDER_MODE } from "./public-files.ts";

/** How long each role's metadata stays valid after signing, in days. */
export interface ExpiryDays {
  root: number;
  targets: number;
  snapshot: number;
  timestamp: number;
}

export const DEFAULT_EXPIRY_DAYS: ExpiryDays = { root: 365, targets: 90, snapshot: 7, timestamp: 1 };

export interface RoleSetup {
  /** Keys to create for the role, in keys. */
  keys: number;
  /** Signatures the role needs, in keys. */
  threshold: number;
}

export interface CreateOptions {
  keyType?: KeyType;
  roles?: Partial<Record<TopLevelRole, RoleSetup>>;
  expiryDays?: Partial<ExpiryDays>;
  now?: Date;
}

interface TargetEntry {
  length: number;
  hashes: { sha256: string };
  custom: JsonObject;
}

interface RepositoryState {
  /** The `signed` object of the latest root. */
  root: JsonObject;
  targets: Record<string, TargetEntry>;
  versions: { targets: number; snapshot: number; timestamp: number };
  expiryDays: ExpiryDays;
}

export interface ReleaseInput {
  /** Path of the file to publish; it is copied into the repository. */
  file: string;
  kind: ReleaseKind;
  version: string;
  counter: number;
  channel: Channel;
  hardwareIds: string[];
  duisVersions: string[];
  gbcsVersions: string[];
  /** Installed release counters from which installing this release is a signed downgrade. */
  downgradeFrom?: number[];
}

export class VendorRepository {
  readonly keysFolder: string;
  readonly metadataFolder: string;
  readonly targetsFolder: string;
  private state: RepositoryState;

  private constructor(readonly folder: string, state: RepositoryState) {
    this.keysFolder = join(folder, "keys");
    this.metadataFolder = join(folder, "public", "metadata");
    this.targetsFolder = join(folder, "public", "targets");
    this.state = state;
  }

  /** Creates keys for every role and signs root version 1; nothing else is published yet. */
  static create(folder: string, options: CreateOptions = {}): VendorRepository {
    if (existsSync(join(folder, "repository.json"))) {
      throw new InvalidArgument("folder", folder, "a folder without a repository (repository.json exists)");
    }

    // The web server must pass through this folder to reach public/, so a new one is created 0755.
    // A folder that exists already keeps its mode unless it is narrower than 0711, which blocks the server.
    makeRepositoryFolder(folder);
    const keyType = options.keyType ?? "ed25519";
    const keysFolder = join(folder, "keys");
    const keys: Record<string, KeyRecord> = {};
    const roles: Record<string, { keyids: string[]; threshold: number }> = {};
    for (const role of TOP_LEVEL_ROLES) {
      const setup = options.roles?.[role] ?? { keys: 1, threshold: 1 };
      validateSetup(role, setup);
      const created = createKeys(keysFolder, role, keyType, setup.keys);
      for (const key of created) keys[key.keyid] = key.record;
      roles[role] = { keyids: created.map((key) => key.keyid), threshold: setup.threshold };
    }

    const expiryDays = { ...DEFAULT_EXPIRY_DAYS, ...options.expiryDays };
    const now = options.now ?? new Date();
    const root: JsonObject = {
      _type: "root",
      spec_version: SPEC_VERSION,
      version: 1,
      expires: expiresAt(now, expiryDays.root),
      consistent_snapshot: true,
      keys: keys as unknown as JsonObject,
      roles: roles as unknown as JsonObject,
    };

    const repository = new VendorRepository(folder, { root, targets: {}, versions: { targets: 0, snapshot: 0, timestamp: 0 }, expiryDays });
    repository.writeRoot(signEnvelope(root, repository.keysOf("root")));
    repository.saveState();
    return repository;
  }

  static open(folder: string): VendorRepository {
    const path = join(folder, "repository.json");
    if (!existsSync(path)) {
      throw new InvalidArgument("folder", folder, "a repository folder (run init first)");
    }
    return new VendorRepository(folder, JSON.parse(readFileSync(path, "utf8")) as RepositoryState);
  }

  get rootVersion(): number {
    return this.state.root.version as number;
  }

  /** The bytes of the latest signed root, which a box is initialised with. */
  rootBytes(): Uint8Array {
    return new Uint8Array(readFileSync(join(this.metadataFolder, `${this.rootVersion}.root.json`)));
  }

  /** The active signing keys of `role`. */
  keysOf(role: TopLevelRole): SigningKey[] {
    const listed = new Set((this.state.root.roles as Record<string, { keyids: string[] }>)[role]?.keyids ?? []);
    return loadKeys(this.keysFolder, role).filter((key) => listed.has(key.keyid));
  }

  /** Copies `input.file` into the repository as target `<channel>/<file name>`; publish() signs it. */
  addRelease(input: ReleaseInput): string {
    requireSemver("version", input.version);
    if (!Number.isSafeInteger(input.counter) || input.counter < 1) {
      throw new InvalidArgument("counter", String(input.counter), "an integer of 1 or more");
    }
    if (input.kind === "config-patch" && (input.duisVersions.length !== 1 || input.gbcsVersions.length !== 1)) {
      throw new InvalidArgument("duis/gbcs versions", `${input.duisVersions.join(",")}/${input.gbcsVersions.join(",")}`, "exactly one DUIS and one GBCS version for a config patch");
    }

    const fileName = basename(input.file);
    const name = `${input.channel}/${fileName}`;
    this.assertCounterUnused(name, input);

    const bytes = readFileSync(input.file);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const channelFolder = join(this.targetsFolder, input.channel);
    this.makePublicFolders();
    makePublicFolder(channelFolder);
    copyPublicFile(input.file, join(channelFolder, `${sha256}.${fileName}`));

    const boxd: JsonObject = {
      kind: input.kind,
      version: input.version,
      counter: input.counter,
      channel: input.channel,
      hardwareIds: input.hardwareIds,
      duisVersions: input.duisVersions,
      gbcsVersions: input.gbcsVersions,
      ...(input.downgradeFrom === undefined || input.downgradeFrom.length === 0 ? {} : { downgradeFrom: input.downgradeFrom }),
    };
    this.state.targets[name] = { length: bytes.length, hashes: { sha256 }, custom: { boxd } };
    this.saveState();
    return name;
  }

  /**
   * Raises unless the counter of `input` is unique: boxes order releases by
   * counter and keep one floor per channel for full releases and one per
   * DUIS/GBCS pair for config patches, so two targets with one floor and the
   * same counter would make "newer" ambiguous. Counters must therefore be
   * unique per channel, among full releases and among the config patches of
   * one DUIS/GBCS pair. Revoked targets keep their counter. Re-adding the
   * same target name replaces it, so its own counter does not count.
   */
  private assertCounterUnused(name: string, input: ReleaseInput): void {
    const key = floorKey(input);
    for (const [otherName, entry] of Object.entries(this.state.targets)) {
      const other = entry.custom.boxd as JsonObject;
      const sameFloor = floorKey({
        kind: other.kind as ReleaseKind,
        duisVersions: other.duisVersions as string[],
        gbcsVersions: other.gbcsVersions as string[],
      }) === key;
      if (otherName === name || other.channel !== input.channel || !sameFloor || other.counter !== input.counter) {
        continue;
      }

      throw new InvalidArgument(
        "counter",
        String(input.counter),
        `a counter that no other ${input.kind === "full" ? "full release" : `config patch for ${key}`} of channel ${input.channel} uses, ` +
          `but ${otherName} (version ${String(other.version)}) has it. Counters are unique per channel; pick one above the highest in use`,
      );
    }
  }

  /** Marks every target of `version` (optionally on one channel) revoked; returns their names. */
  revokeRelease(version: string, reason: string, channel?: Channel): string[] {
    const names = Object.entries(this.state.targets)
      .filter(([name, entry]) => (entry.custom.boxd as JsonObject).version === version && (channel === undefined || name.startsWith(`${channel}/`)))
      .map(([name]) => name);
    if (names.length === 0) {
      throw new InvalidArgument("version", version, "a version listed in the repository");
    }

    for (const name of names) {
      const entry = this.state.targets[name] as TargetEntry;
      entry.custom = { ...entry.custom, boxd: { ...(entry.custom.boxd as JsonObject), revoked: { reason } } };
    }
    this.saveState();
    return names;
  }

  /** Removes a target from the next publication; its file stays for clients mid-download. */
  removeTarget(name: string): void {
    if (this.state.targets[name] === undefined) {
      throw new InvalidArgument("target", name, "a listed target name");
    }
    delete this.state.targets[name];
    this.saveState();
  }

  /**
   * Replaces the keys of `role` and signs the next root version. Rotating
   * root signs the new root with the old root keys and the new ones, so
   * boxes can walk the chain (TUF 5.3.4). Old key files move to keys/retired.
   */
  rotateKeys(role: TopLevelRole, setup: RoleSetup, options: { keyType?: KeyType; now?: Date } = {}): string[] {
    validateSetup(role, setup);
    const oldRootKeys = this.keysOf("root");
    const roles = structuredClone(this.state.root.roles) as Record<string, { keyids: string[]; threshold: number }>;
    const oldKeyids = roles[role]?.keyids ?? [];

    const created = createKeys(this.keysFolder, role, options.keyType ?? "ed25519", setup.keys);
    roles[role] = { keyids: created.map((key) => key.keyid), threshold: setup.threshold };

    // The new root lists exactly the keys its roles use; retired keys drop out.
    const known: Record<string, KeyRecord> = { ...(this.state.root.keys as unknown as Record<string, KeyRecord>) };
    for (const key of created) known[key.keyid] = key.record;
    const keys: Record<string, KeyRecord> = {};
    for (const name of TOP_LEVEL_ROLES) {
      for (const keyid of roles[name]?.keyids ?? []) {
        const record = known[keyid];
        if (record !== undefined) keys[keyid] = record;
      }
    }

    const root: JsonObject = {
      ...this.state.root,
      version: this.rootVersion + 1,
      expires: expiresAt(options.now ?? new Date(), this.state.expiryDays.root),
      keys: keys as unknown as JsonObject,
      roles: roles as unknown as JsonObject,
    };
    const signers = role === "root" ? [...oldRootKeys, ...created] : oldRootKeys;

    this.state.root = root;
    this.writeRoot(signEnvelope(root, signers));
    retireKeys(this.keysFolder, role, oldKeyids);
    this.saveState();
    return created.map((key) => key.keyid);
  }

  /** Signs a new root version with unchanged keys, for example to extend its expiry. */
  resignRoot(now: Date = new Date()): void {
    const root: JsonObject = { ...this.state.root, version: this.rootVersion + 1, expires: expiresAt(now, this.state.expiryDays.root) };
    this.state.root = root;
    this.writeRoot(signEnvelope(root, this.keysOf("root")));
    this.saveState();
  }

  /**
   * Signs and writes targets, snapshot and timestamp as the next versions.
   * Files are written in the order a box reads them backwards (targets,
   * snapshot, then timestamp), so a box never sees a timestamp whose
   * snapshot is not there yet.
   */
  publish(now: Date = new Date()): { targets: number; snapshot: number; timestamp: number } {
    this.makePublicFolders();
    const versions = { targets: this.state.versions.targets + 1, snapshot: this.state.versions.snapshot + 1, timestamp: this.state.versions.timestamp + 1 };
    const days = this.state.expiryDays;

    const targets = signEnvelope(
      { _type: "targets", spec_version: SPEC_VERSION, version: versions.targets, expires: expiresAt(now, days.targets), targets: this.state.targets as unknown as JsonObject },
      this.keysOf("targets"),
    );
    writePublicFile(join(this.metadataFolder, `${versions.targets}.targets.json`), targets);

    const snapshot = signEnvelope(
      { _type: "snapshot", spec_version: SPEC_VERSION, version: versions.snapshot, expires: expiresAt(now, days.snapshot), meta: { "targets.json": metaOf(versions.targets, targets) } },
      this.keysOf("snapshot"),
    );
    writePublicFile(join(this.metadataFolder, `${versions.snapshot}.snapshot.json`), snapshot);

    const timestamp = signEnvelope(
      { _type: "timestamp", spec_version: SPEC_VERSION, version: versions.timestamp, expires: expiresAt(now, days.timestamp), meta: { "snapshot.json": metaOf(versions.snapshot, snapshot) } },
      this.keysOf("timestamp"),
    );
    writePublicFile(join(this.metadataFolder, "timestamp.json"), timestamp);

    this.state.versions = versions;
    this.saveState();
    return versions;
  }

  private writeRoot(bytes: Uint8Array): void {
    this.makePublicFolders();
    writePublicFile(join(this.metadataFolder, `${this.rootVersion}.root.json`), bytes);
    writePublicFile(join(this.metadataFolder, "root.json"), bytes);
  }

  /** Makes `public/`, `public/metadata/` and `public/targets/` world-readable, whatever the umask. */
  private makePublicFolders(): void {
    makePublicFolder(join(this.folder, "public"));
    makePublicFolder(this.metadataFolder);
    makePublicFolder(this.targetsFolder);
  }

  private saveState(): void {
    writeJsonAtomic(join(this.folder, "repository.json"), this.state, 0o600);
  }
}

/** Formats `now + days` as TUF's `expires`: UTC, whole seconds. */
export function expiresAt(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The snapshot/timestamp `meta` entry of a file: version, length and sha256. */
export function metaOf(version: number, bytes: Uint8Array): JsonObject {
  return { version, length: bytes.length, hashes: { sha256: createHash("sha256").update(bytes).digest("hex") } };
}

/**
 * Creates the repository folder with mode 0755. An existing
 * folder keeps its mode, but gains search permission for everyone, because
 * the web server must pass through it to reach `public/`.
 */
function makeRepositoryFolder(folder: string): void {
  if (!existsSync(folder)) {
    makePublicFolder(folder);
    return;
  }
  const mode = statSync(folder).mode & 0o777;
  if ((mode & SEARCH_FOR_ALL) !== SEARCH_FOR_ALL) {
    chmodSync(folder, mode | SEARCH_FOR_ALL);
  }
}

/** Search (execute) permission on a folder for owner, group and others. */
const SEARCH_FOR_ALL = 0o111;

function createKeys(folder: string, role: string, type: KeyType, count: number): SigningKey[] {
  const created: SigningKey[] = [];
  for (let index = 0; index < count; index += 1) {
    const { key, privateKey } = generateKey(type);
    saveKey(folder, role, key, privateKey);
    created.push(key);
  }
  return created;
}

function validateSetup(role: string, setup: RoleSetup): void {
  if (!Number.isSafeInteger(setup.threshold) || setup.threshold < 1 || setup.threshold > setup.keys) {
    throw new InvalidArgument(`${role} threshold`, String(setup.threshold), `an integer from 1 to the key count ${setup.keys}`);
  }
}
