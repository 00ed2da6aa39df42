/**
 * Constants and limits of the remote lock. Every limit is a named setting
 * with its unit. Callers may override the ones in {@link LockLimits}.
 */

/** `signed.type` of a lock or unlock statement issued by the lock authority. */
export const STATEMENT_TYPE = "boxd-lock-statement";

/** `signed.type` of a check-in report signed by the box's identity key. */
export const CHECK_IN_TYPE = "boxd-check-in";

/** Only key type and signature scheme the lock accepts (RFC 8032 Ed25519). */
export const KEY_TYPE_ED25519 = "ed25519";

/** Folder of the update repository that contains one statement per device. */
export const STATEMENT_FOLDER = "lock";

/** File name of the persisted lock state inside the state directory. */
export const LOCK_STATE_FILE = "lock.json";

/** File name of the nonces of the latest check-ins inside the state directory. */
export const CHECK_IN_FILE = "check-in.json";

/** Version of the on-disk format of {@link LOCK_STATE_FILE} and {@link CHECK_IN_FILE}. */
export const STATE_FORMAT = 1;

/** Length of a check-in nonce in bytes (sent as lowercase hex). */
export const NONCE_BYTES = 32;

/**
 * Device IDs are used as a file name in the repository (`lock/<deviceId>.json`),
 * so they are limited to characters that are safe in a URL path and a file name.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Limits of the lock client, each with its unit. */
export type LockLimits = {
  /** Maximum size in bytes of a statement download. A larger body is aborted while it streams. */
  maxStatementBytes: number;
  /** Maximum time in ms for fetching one statement, headers and body together. */
  fetchTimeoutMs: number;
  /** Maximum time in ms for one check-in POST, including the response. */
  checkInTimeoutMs: number;
  /** Maximum length in characters of the message and of the contact text of a statement. */
  maxTextLength: number;
  /**
   * Number of latest check-ins whose nonces an unlock may carry, in check-ins.
   * Every refresh checks in, so a window above 1 keeps an unlock valid while
   * the box checks in again before the unlock arrives.
   */
  nonceWindowCheckIns: number;
};

/** Default limits. A statement is a few hundred bytes, so 16 KiB leaves wide room. */
export const DEFAULT_LOCK_LIMITS: LockLimits = {
  maxStatementBytes: 16 * 1024,
  fetchTimeoutMs: 15_000,
  checkInTimeoutMs: 15_000,
  maxTextLength: 1024,
  nonceWindowCheckIns: 8,
};
