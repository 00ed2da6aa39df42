import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { CHECK_IN_FILE, LOCK_STATE_FILE, STATE_FORMAT } from "./constants.ts";
import { LockStateCorrupt } from "./errors.ts";
import { initialLockState, type LockState } from "./policy.ts";
import { isDeviceId, isNonce } from "./statement.ts";

/** Result of reading the lock state: the state, and whether the file existed. */
export type StoredLockState = { state: LockState; found: boolean };

/**
 * Files of the remote lock in the state directory, outside the A/B slots so
 * that installing a release never touches them:
 * - `lock.json`: the applied lock state;
 * - `check-in.json`: the nonces of the latest check-ins, newest first.
 * Both are written atomically (temp file, fsync, rename) before the caller
 * acts on them.
 */
export class LockStore {
  readonly lockStatePath: string;
  readonly checkInPath: string;

  constructor(readonly stateDir: string) {
    this.lockStatePath = join(stateDir, LOCK_STATE_FILE);
    this.checkInPath = join(stateDir, CHECK_IN_FILE);
  }

  /**
   * Reads `lock.json`. A missing file gives the initial unlocked state. Raises
   * {@link LockStateCorrupt} if the file exists but is invalid, so the caller
   * can fail closed.
   */
  readLockState(deviceId: string): StoredLockState {
    if (!existsSync(this.lockStatePath)) {
      return { state: initialLockState(deviceId), found: false };
    }

    const value = readJson(this.lockStatePath) as Record<string, unknown>;
    const valid =
      value.format === STATE_FORMAT &&
      isDeviceId(value.deviceId) &&
      (value.state === "locked" || value.state === "unlocked") &&
      typeof value.sequence === "number" &&
      Number.isSafeInteger(value.sequence) &&
      value.sequence >= 0 &&
      typeof value.message === "string" &&
      typeof value.contact === "string" &&
      (value.statementDigest === null || typeof value.statementDigest === "string");
    if (!valid) {
      throw new LockStateCorrupt(this.lockStatePath, `expected format ${STATE_FORMAT} with deviceId, state, sequence, message, contact`);
    }

    const state: LockState = {
      deviceId: value.deviceId as string,
      state: value.state as LockState["state"],
      sequence: value.sequence as number,
      message: value.message as string,
      contact: value.contact as string,
      statementDigest: value.statementDigest as string | null,
    };
    return { state: rebindToDevice(state, deviceId), found: true };
  }

  /** Persists the lock state atomically. Call it before reporting the change to anyone. */
  writeLockState(state: LockState): void {
    writeJsonAtomic(this.lockStatePath, { format: STATE_FORMAT, ...state });
  }

  /**
   * Returns the nonce of the latest check-in of `deviceId`, or null before the
   * first check-in. Raises {@link LockStateCorrupt} if the file is invalid or
   * belongs to another device ID.
   */
  readLatestNonce(deviceId: string): string | null {
    return this.readRecentNonces(deviceId)[0] ?? null;
  }

  /**
   * Returns the nonces of the latest check-ins of `deviceId`, newest first,
   * or an empty list before the first check-in. A file written before the
   * list was stored contains only `nonce`. Raises {@link LockStateCorrupt} if
   * the file is invalid or belongs to another device ID.
   */
  readRecentNonces(deviceId: string): string[] {
    if (!existsSync(this.checkInPath)) {
      return [];
    }

    const value = readJson(this.checkInPath) as Record<string, unknown>;
    if (value.format !== STATE_FORMAT || value.deviceId !== deviceId || !isNonce(value.nonce)) {
      throw new LockStateCorrupt(this.checkInPath, `expected format ${STATE_FORMAT} with deviceId ${deviceId} and a nonce`);
    }

    if (value.recentNonces === undefined) {
      return [value.nonce];
    }
    if (!Array.isArray(value.recentNonces) || !value.recentNonces.every(isNonce) || value.recentNonces[0] !== value.nonce) {
      throw new LockStateCorrupt(this.checkInPath, "recentNonces must be a list of nonces that starts with the latest nonce");
    }
    return value.recentNonces;
  }

  /**
   * Persists the nonce of a new check-in atomically, in front of the nonces
   * kept from earlier check-ins, at most `windowSize` in all. Call it before
   * the check-in is sent. A list that cannot be read starts over with this
   * nonce alone, which only makes older unlocks invalid.
   */
  writeLatestNonce(deviceId: string, nonce: string, windowSize = 1): void {
    let earlier: string[];
    try {
      earlier = this.readRecentNonces(deviceId);
    } catch (error) {
      if (!(error instanceof LockStateCorrupt)) {
        throw error;
      }
      earlier = [];
    }

    const recentNonces = [nonce, ...earlier].slice(0, Math.max(1, windowSize));
    writeJsonAtomic(this.checkInPath, { format: STATE_FORMAT, deviceId, nonce, recentNonces });
  }
}

/**
 * Adapts a stored state to the current device ID. The ID changes only when the
 * box is provisioned again with `--force`. A lock stays in force across that,
 * because re-provisioning must not be a way out of it. An unlocked state
 * starts over at sequence 0 for the new ID, whose statements the lock authority
 * numbers separately.
 */
function rebindToDevice(state: LockState, deviceId: string): LockState {
  if (state.deviceId === deviceId) {
    return state;
  }

  if (state.state === "locked") {
    return { ...state, deviceId, statementDigest: null };
  }

  return initialLockState(deviceId);
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new LockStateCorrupt(path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }

  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) {
      throw new Error("not an object");
    }
    return value;
  } catch {
    throw new LockStateCorrupt(path, "the file is not a JSON object");
  }
}
