/**
 * The TUF client's trust rules for one refresh, with no I/O: the caller
 * fetches bytes, hands them over, and persists what this set accepts.
 *
 * Rules (TUF v1.0.34, section 5 "Detailed client workflow"):
 * - 5.1: every expiry check compares against one reference time, fixed
 *   when the set is created.
 * - 5.3: root advances one version at a time, each new root signed by a
 *   threshold of the trusted root's keys and of its own keys.
 * - 5.3.11: if the timestamp or snapshot keys changed, the stored timestamp
 *   and snapshot are dropped (fast-forward recovery).
 * - 5.4-5.6: timestamp, snapshot and targets load in that order. Each is
 *   signed by a threshold of unique keys and not expired. Each is bound to
 *   its parent by version, and by length and hashes when the parent lists them.
 * - Stored copies serve as rollback baselines even when they have expired.
 * Methods throw a RepositoryError on bad data and leave the set as it was.
 *
 * Off-spec: delegated targets roles are not followed. The vendor publishes
 * one top-level targets role, and a `delegations` field is kept in the
 * signed bytes but never used to find a target.
 */
import type { TopLevelRole } from "./consts.ts";
import { Expired, MetaFileMissing, OutOfOrder, Rollback, VersionMismatch } from "./errors.ts";
import { type Metadata, type RoleKeys, type TargetFile, parseMetadata } from "./metadata.ts";
import { verifyMetaFile, verifyThreshold } from "./verify.ts";

export type TimestampUpdate = "updated" | "unchanged";

export class TrustedMetadataSet {
  readonly referenceTime: Date;

  private trustedRoot: Metadata<"root">;
  private readonly initialRoot: Metadata<"root">;
  private rootFinished = false;
  private keysRotated = false;
  private trustedTimestamp: Metadata<"timestamp"> | undefined;
  private timestampFromThisRefresh = false;
  private trustedSnapshot: Metadata<"snapshot"> | undefined;
  private snapshotFromThisRefresh = false;
  private trustedTargets: Metadata<"targets"> | undefined;

  /**
   * Starts from the locally trusted root (TUF 5.2). Its expiry does not
   * matter yet, but it must be signed by a threshold of its own root keys.
   */
  constructor(rootBytes: Uint8Array, referenceTime: Date) {
    const root = parseMetadata("root", rootBytes);
    verifyThreshold(root, "root", root.signed, "trusted root");

    this.referenceTime = referenceTime;
    this.trustedRoot = root;
    this.initialRoot = root;
  }

  get root(): Metadata<"root"> {
    return this.trustedRoot;
  }

  get timestamp(): Metadata<"timestamp"> | undefined {
    return this.trustedTimestamp;
  }

  get snapshot(): Metadata<"snapshot"> | undefined {
    return this.trustedSnapshot;
  }

  get targets(): Metadata<"targets"> | undefined {
    return this.trustedTargets;
  }

  /** Accepts root version N+1; the caller persists `raw` of the result before fetching N+2. */
  updateRoot(bytes: Uint8Array): Metadata<"root"> {
    if (this.rootFinished) {
      throw new OutOfOrder("update root", "nothing else (root must be updated first)");
    }

    const trustedVersion = this.trustedRoot.signed.version;
    const next = parseMetadata("root", bytes);

    // TUF 5.3.4: signed by a threshold of the trusted root's keys and of the new root's own keys.
    verifyThreshold(next, "root", this.trustedRoot.signed, "trusted root");
    verifyThreshold(next, "root", next.signed, "new root");

    // TUF 5.3.5: the version is exactly N+1; anything lower is a rollback.
    if (next.signed.version <= trustedVersion) {
      throw new Rollback("root", trustedVersion, next.signed.version);
    }
    if (next.signed.version !== trustedVersion + 1) {
      throw new VersionMismatch("root", trustedVersion + 1, next.signed.version);
    }

    // TUF 5.3.6: an intermediate root may be expired; only the final one is checked.
    this.trustedRoot = next;
    return next;
  }

  /**
   * Ends the root chain. Returns whether the timestamp or snapshot keys
   * changed, in which case the caller deletes its stored timestamp and
   * snapshot (TUF 5.3.11) and this set will not load them.
   */
  finishRootUpdate(): { timestampOrSnapshotKeysRotated: boolean } {
    if (this.rootFinished) {
      throw new OutOfOrder("finish the root update", "nothing else (it was already finished)");
    }

    // TUF 5.3.10: the final root must not be expired at the reference time (freeze attack).
    this.checkNotExpired(this.trustedRoot);

    // TUF 5.3.11: changed timestamp or snapshot keys mean the stored copies may be fast-forwarded.
    const initial = this.initialRoot.signed.roles;
    const final = this.trustedRoot.signed.roles;
    this.keysRotated = !sameKeys(initial.timestamp, final.timestamp) || !sameKeys(initial.snapshot, final.snapshot);
    this.rootFinished = true;
    return { timestampOrSnapshotKeysRotated: this.keysRotated };
  }

  /**
   * Loads the stored timestamp as the rollback baseline. It may be expired
   * (TUF 5.4.2 compares against it all the same). Returns false when keys
   * rotated and the stored copy must be dropped.
   */
  loadStoredTimestamp(bytes: Uint8Array): boolean {
    this.requireRootFinished("load the stored timestamp");
    if (this.keysRotated) return false;

    const stored = parseMetadata("timestamp", bytes);
    verifyThreshold(stored, "timestamp", this.trustedRoot.signed, "trusted root");
    this.trustedTimestamp = stored;
    return true;
  }

  /** Loads the stored snapshot as the rollback baseline of TUF 5.5.4; it may be expired. */
  loadStoredSnapshot(bytes: Uint8Array): boolean {
    this.requireRootFinished("load the stored snapshot");
    if (this.keysRotated) return false;
    if (this.timestampFromThisRefresh) {
      throw new OutOfOrder("load the stored snapshot", "the new timestamp (stored copies load first)");
    }

    const stored = parseMetadata("snapshot", bytes);
    verifyThreshold(stored, "snapshot", this.trustedRoot.signed, "trusted root");
    this.trustedSnapshot = stored;
    return true;
  }

  /** Accepts a new timestamp; "unchanged" means the repository has nothing new (TUF 5.4.2.1). */
  updateTimestamp(bytes: Uint8Array): TimestampUpdate {
    this.requireRootFinished("update the timestamp");
    if (this.snapshotFromThisRefresh) {
      throw new OutOfOrder("update the timestamp", "nothing after it (snapshot was already updated)");
    }

    const next = parseMetadata("timestamp", bytes);

    // TUF 5.4.1: signed by a threshold of the timestamp keys of the trusted root.
    verifyThreshold(next, "timestamp", this.trustedRoot.signed, "trusted root");

    // TUF 5.4.2.1: the version never goes down; an equal version is kept and the new file discarded.
    const trusted = this.trustedTimestamp;
    if (trusted !== undefined) {
      if (next.signed.version < trusted.signed.version) {
        throw new Rollback("timestamp", trusted.signed.version, next.signed.version);
      }
      if (next.signed.version === trusted.signed.version) {
        this.timestampFromThisRefresh = true;
        return "unchanged";
      }

      // TUF 5.4.2.2: the snapshot version it lists never goes down either.
      if (next.signed.snapshot.version < trusted.signed.snapshot.version) {
        throw new Rollback("snapshot.json in timestamp", trusted.signed.snapshot.version, next.signed.snapshot.version);
      }
    }

    // TUF 5.4.3: not expired at the reference time (freeze attack).
    this.checkNotExpired(next);

    this.trustedTimestamp = next;
    this.timestampFromThisRefresh = true;
    return "updated";
  }

  /** Accepts the snapshot the trusted timestamp lists, from the repository or from storage. */
  updateSnapshot(bytes: Uint8Array): Metadata<"snapshot"> {
    const timestamp = this.trustedTimestamp;
    if (timestamp === undefined || !this.timestampFromThisRefresh) {
      throw new OutOfOrder("update the snapshot", "the timestamp of this refresh");
    }
    if (this.trustedTargets !== undefined) {
      throw new OutOfOrder("update the snapshot", "nothing after it (targets was already updated)");
    }

    // TUF 5.4.3 applies to the timestamp in use, including one kept because the remote version was equal.
    this.checkNotExpired(timestamp);

    // TUF 5.5.1: length and hashes as the timestamp lists them (checked before parsing).
    const listed = timestamp.signed.snapshot;
    verifyMetaFile("snapshot.json", bytes, listed);

    // TUF 5.5.2: signed by a threshold of the snapshot keys.
    const next = parseMetadata("snapshot", bytes);
    verifyThreshold(next, "snapshot", this.trustedRoot.signed, "trusted root");

    // TUF 5.5.3: exactly the version the timestamp lists (mix-and-match).
    if (next.signed.version !== listed.version) {
      throw new VersionMismatch("snapshot", listed.version, next.signed.version);
    }

    // TUF 5.5.4: every file of the trusted snapshot is still listed, at the same or a higher version.
    for (const [name, old] of Object.entries(this.trustedSnapshot?.signed.meta ?? {})) {
      const current = next.signed.meta[name];
      if (current === undefined) {
        throw new MetaFileMissing("snapshot", name);
      }
      if (current.version < old.version) {
        throw new Rollback(name, old.version, current.version);
      }
    }

    // TUF 5.5.5: not expired (freeze attack).
    this.checkNotExpired(next);

    this.trustedSnapshot = next;
    this.snapshotFromThisRefresh = true;
    return next;
  }

  /** Accepts the top-level targets the trusted snapshot lists, from the repository or from storage. */
  updateTargets(bytes: Uint8Array): Metadata<"targets"> {
    const snapshot = this.trustedSnapshot;
    if (snapshot === undefined || !this.snapshotFromThisRefresh) {
      throw new OutOfOrder("update targets", "the snapshot of this refresh");
    }

    this.checkNotExpired(snapshot);

    const listed = snapshot.signed.meta["targets.json"];
    if (listed === undefined) {
      throw new MetaFileMissing("snapshot", "targets.json");
    }

    // TUF 5.6.1: length and hashes as the snapshot lists them.
    verifyMetaFile("targets.json", bytes, listed);

    // TUF 5.6.2: signed by a threshold of the targets keys.
    const next = parseMetadata("targets", bytes);
    verifyThreshold(next, "targets", this.trustedRoot.signed, "trusted root");

    // TUF 5.6.3: exactly the version the snapshot lists (mix-and-match).
    if (next.signed.version !== listed.version) {
      throw new VersionMismatch("targets", listed.version, next.signed.version);
    }

    // TUF 5.6.4: not expired (freeze attack).
    this.checkNotExpired(next);

    this.trustedTargets = next;
    return next;
  }

  /** Returns the signed entry of target `name`, or undefined when it is not listed (TUF 5.6.6, top level only). */
  findTarget(name: string): TargetFile | undefined {
    const targets = this.trustedTargets;
    if (targets === undefined) {
      throw new OutOfOrder("look up a target", "targets");
    }
    return Object.hasOwn(targets.signed.targets, name) ? targets.signed.targets[name] : undefined;
  }

  private requireRootFinished(operation: string): void {
    if (!this.rootFinished) {
      throw new OutOfOrder(operation, "the final root (call finishRootUpdate)");
    }
  }

  private checkNotExpired(metadata: Metadata<TopLevelRole>): void {
    if (metadata.signed.expires.getTime() <= this.referenceTime.getTime()) {
      throw new Expired(metadata.role, metadata.signed.expires, this.referenceTime);
    }
  }
}

function sameKeys(left: RoleKeys, right: RoleKeys): boolean {
  const leftIds = [...left.keyids].sort().join(",");
  const rightIds = [...right.keyids].sort().join(",");
  return leftIds === rightIds;
}
