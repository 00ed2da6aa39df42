import { logger, type Logger } from "../../daemon/log.ts";
import { generateNonce, postCheckIn, signCheckIn } from "./check-in.ts";
import { DEFAULT_LOCK_LIMITS, type LockLimits } from "./constants.ts";
import { DeviceLocked, LockError, LockSettingInvalid, LockStateCorrupt, LockStatementRejected } from "./errors.ts";
import { statementUrl, fetchStatementBytes } from "./fetch.ts";
import type { Ed25519KeyPair, Ed25519PublicKey } from "./keys.ts";
import { LockPolicy, type LockState } from "./policy.ts";
import { isDeviceId, parseStatement } from "./statement.ts";
import { LockStore } from "./store.ts";

/** Settings of {@link RemoteLock}. */
export type RemoteLockOptions = {
  /** Protected state directory that contains `lock.json` and `check-in.json`, outside the A/B slots. */
  stateDir: string;
  deviceId: string;
  /** Public key of the lock authority, from the provisioned trust anchors. */
  authorityKey: Ed25519PublicKey;
  /** The box's identity key pair, which signs check-ins. */
  identity: Ed25519KeyPair;
  /** Base URL of the update repository. Statements are at `lock/<deviceId>.json` below it. */
  repositoryUrl: string;
  /** URL the lock authority receives check-ins on (HTTP POST, JSON). */
  checkInUrl: string;
  limits?: Partial<LockLimits>;
  log?: Logger;
};

/** Lock status for the admin API and the status page. */
export type LockStatus = {
  locked: boolean;
  /** Sequence of the last applied statement, or 0 if none. */
  sequence: number;
  /** Text from the lock authority, for example "Reported stolen". Empty while unlocked. */
  message: string;
  /** Whom to contact, from the lock authority. Empty while unlocked. */
  contact: string;
};

/** Result of {@link RemoteLock.fetchAndApplyLockStatement}. */
export type FetchOutcome =
  | { kind: "none" }
  | { kind: "unchanged"; status: LockStatus }
  | { kind: "applied"; status: LockStatus };

/** Release information sent in each check-in. */
export type CheckInInfo = { version: string; channel: string };

/** Result of {@link RemoteLock.refresh}: each step's outcome, or the error it raised. */
export type RefreshResult = {
  statement: FetchOutcome | LockError;
  checkIn: { nonce: string; status: number } | LockError;
};

/** Called after a state change has been persisted. */
export type LockListener = (status: LockStatus) => void;

const UNREADABLE_STATE_MESSAGE =
  "The lock state on this box is unreadable, so the box stays locked until the lock authority confirms its state.";
const UNREADABLE_STATE_CONTACT = "the owner of this box";

/**
 * The box side of the remote lock: fetches and applies statements, sends
 * check-ins, and guards actions while locked.
 *
 * Call {@link refresh} at boot before serving (when online), and at the start
 * of every update check before {@link assertNotLocked}. Then call
 * {@link assertNotLocked} before every metadata refresh, download, install,
 * slot switch, channel or pin change, and DUIS or SMKI request. `refresh` is
 * never guarded, and a locked box must keep calling it on its update
 * schedule, because that is how the unlock arrives. No method reads the wall
 * clock.
 */
export class RemoteLock {
  private state: LockState;
  private readonly listeners: LockListener[] = [];

  private constructor(
    private readonly options: RemoteLockOptions,
    private readonly policy: LockPolicy,
    private readonly store: LockStore,
    private readonly limits: LockLimits,
    private readonly log: Logger,
    initial: LockState,
  ) {
    this.state = initial;
  }

  /**
   * Loads the persisted lock state. A missing `lock.json` means unlocked at
   * sequence 0. An unreadable one keeps the box locked (fail closed).
   */
  static open(options: RemoteLockOptions): RemoteLock {
    if (!isDeviceId(options.deviceId)) {
      throw new LockSettingInvalid("deviceId", options.deviceId, "use 1 to 64 letters, digits, '.', '_' or '-'");
    }
    statementUrl(options.repositoryUrl, options.deviceId);

    const log = options.log ?? logger("update.lock");
    const store = new LockStore(options.stateDir);
    const policy = new LockPolicy(options.deviceId, options.authorityKey);
    const limits = { ...DEFAULT_LOCK_LIMITS, ...options.limits };

    let initial: LockState;
    try {
      const stored = store.readLockState(options.deviceId);
      initial = stored.state;
      log.info({ deviceId: options.deviceId, state: initial.state, sequence: initial.sequence, found: stored.found }, "lock state loaded");
    } catch (error) {
      if (!(error instanceof LockStateCorrupt)) {
        throw error;
      }

      // NOTE: with sequence 0 any valid statement from the lock authority replaces this
      // state, but an unlock still needs the nonce of a check-in sent after this boot.
      log.error({ deviceId: options.deviceId, path: error.path, err: error }, "lock state unreadable, so the box stays locked");
      initial = {
        deviceId: options.deviceId,
        state: "locked",
        sequence: 0,
        message: UNREADABLE_STATE_MESSAGE,
        contact: UNREADABLE_STATE_CONTACT,
        statementDigest: null,
      };
    }

    return new RemoteLock(options, policy, store, limits, log, initial);
  }

  /** Returns whether the box is locked. */
  isLocked(): boolean {
    return this.state.state === "locked";
  }

  /** Returns the current lock status. */
  status(): LockStatus {
    const locked = this.isLocked();
    return {
      locked,
      sequence: this.state.sequence,
      message: locked ? this.state.message : "",
      contact: locked ? this.state.contact : "",
    };
  }

  /** Raises {@link DeviceLocked} with the contact text if the box is locked. `action` names what was refused. */
  assertNotLocked(action: string): void {
    if (!this.isLocked()) {
      return;
    }

    throw new DeviceLocked(action, this.state.sequence, this.state.message, this.state.contact);
  }

  /** Registers a listener called after each persisted state change, for example to stop serving at once. */
  onChange(listener: LockListener): void {
    this.listeners.push(listener);
  }

  /**
   * Fetches `lock/<deviceId>.json` from the repository and applies it. A
   * statement that changes the state is persisted atomically before this
   * returns or any listener runs. Rejections are logged with their reason and
   * raised as {@link LockStatementRejected}, and transport failures raise
   * {@link LockTransportError}. Neither changes the state.
   */
  async fetchAndApplyLockStatement(): Promise<FetchOutcome> {
    const { deviceId } = this.options;
    const url = statementUrl(this.options.repositoryUrl, deviceId);

    let bytes: Uint8Array | null;
    try {
      bytes = await fetchStatementBytes(url, this.limits.maxStatementBytes, this.limits.fetchTimeoutMs);
    } catch (error) {
      this.logFailure(error, { url }, "fetching lock statement failed");
      throw error;
    }

    if (bytes === null) {
      this.log.debug({ deviceId, url }, "no lock statement for this device");
      return { kind: "none" };
    }

    let outcome;
    try {
      const statement = parseStatement(bytes, this.limits);
      outcome = this.policy.apply(this.state, statement, this.readRecentNonces());
    } catch (error) {
      this.logFailure(error, { url }, "lock statement rejected");
      throw error;
    }

    if (outcome.kind === "unchanged") {
      return { kind: "unchanged", status: this.status() };
    }

    this.store.writeLockState(outcome.state);
    this.state = outcome.state;
    this.log.warn({ deviceId, state: outcome.state.state, sequence: outcome.state.sequence }, "lock statement applied");

    const status = this.status();
    for (const listener of this.listeners) {
      listener(status);
    }
    return { kind: "applied", status };
  }

  /**
   * Sends a check-in signed by the identity key, carrying the device ID,
   * release, lock sequence and a fresh nonce. The nonce is persisted
   * atomically before sending, next to the nonces of the previous
   * `nonceWindowCheckIns - 1` check-ins, so an unlock that echoes any of them
   * is accepted, even after a restart. Raises {@link CheckInFailed} if the POST fails.
   */
  async checkIn(info: CheckInInfo): Promise<{ nonce: string; status: number }> {
    const { deviceId, checkInUrl } = this.options;
    const nonce = generateNonce();
    this.store.writeLatestNonce(deviceId, nonce, this.limits.nonceWindowCheckIns);

    const report = signCheckIn(
      { deviceId, version: info.version, channel: info.channel, lockSequence: this.state.sequence, locked: this.isLocked(), nonce },
      this.options.identity,
    );

    let status: number;
    try {
      status = await postCheckIn(checkInUrl, report, this.limits.checkInTimeoutMs);
    } catch (error) {
      this.logFailure(error, { url: checkInUrl }, "check-in failed");
      throw error;
    }

    this.log.info({ deviceId, status, sequence: this.state.sequence, locked: this.isLocked() }, "check-in sent");
    return { nonce, status };
  }

  /**
   * Fetches and applies the statement, then checks in. The fetch comes first
   * so an unlock that echoes the nonce of the oldest check-in in the window
   * applies before the new check-in pushes that nonce out. Errors are returned per step, not raised, so a
   * failed fetch does not skip the check-in.
   */
  async refresh(info: CheckInInfo): Promise<RefreshResult> {
    const statement = await this.fetchAndApplyLockStatement().catch((error: unknown) => asLockError(error));
    const checkIn = await this.checkIn(info).catch((error: unknown) => asLockError(error));
    return { statement, checkIn };
  }

  /** Returns the nonces of the latest check-ins. An unreadable file counts as none, so an unlock waits for the next check-in. */
  private readRecentNonces(): string[] {
    try {
      return this.store.readRecentNonces(this.options.deviceId);
    } catch (error) {
      if (!(error instanceof LockStateCorrupt)) {
        throw error;
      }

      this.log.error({ deviceId: this.options.deviceId, path: error.path, err: error }, "check-in nonce unreadable, so it is ignored");
      return [];
    }
  }

  private logFailure(error: unknown, context: { url: string }, text: string): void {
    const fields = { deviceId: this.options.deviceId, url: context.url, sequence: this.state.sequence };
    if (error instanceof LockStatementRejected) {
      const { reason, name, message } = error;
      this.log.warn({ ...fields, reason, error: name, detail: message }, text);
      return;
    }

    this.log.warn({ ...fields, err: error }, text);
  }
}

function asLockError(error: unknown): LockError {
  if (error instanceof LockError) {
    return error;
  }
  throw error;
}
