/**
 * Remote lock by the lock authority (the DCC): public API for the daemon and
 * the updater. At boot the daemon calls `RemoteLock.open(...)`, then
 * `refresh(...)` before serving when online. Guarded actions call
 * `assertNotLocked(action)`, which raises `DeviceLocked`.
 */
export { canonicalBytes, canonicalJson, CanonicalJsonError } from "./canonical-json.ts";
export { readCheckIn, signCheckIn, type CheckInBody, type CheckInReport } from "./check-in.ts";
export { DEFAULT_LOCK_LIMITS, LOCK_STATE_FILE, CHECK_IN_FILE, type LockLimits } from "./constants.ts";
export * from "./errors.ts";
export {
  generateKeyPair,
  keyIdOf,
  keyPairFromSecret,
  parsePublicKey,
  publicKeyObject,
  readPublicKeyFile,
  readSecretKeyFile,
  type Ed25519KeyPair,
  type Ed25519PublicKey,
} from "./keys.ts";
export { initialLockState, LockPolicy, type ApplyOutcome, type LockState } from "./policy.ts";
export {
  RemoteLock,
  type CheckInInfo,
  type FetchOutcome,
  type LockListener,
  type LockStatus,
  type RefreshResult,
  type RemoteLockOptions,
} from "./remote-lock.ts";
export { isDeviceId, parseStatement, type LockStatement, type LockStatementBody } from "./statement.ts";
export { LockStore } from "./store.ts";
