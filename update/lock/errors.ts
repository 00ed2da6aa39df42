/**
 * Errors of the remote lock, grouped by who is at fault:
 * - {@link LockStatementRejected}: the repository or an attacker sent a statement the box must not apply;
 * - {@link LockTransportError}: the network or the server failed;
 * - {@link LockUsageError}: the caller passed a bad setting, or local state is unusable;
 * - {@link DeviceLocked}: not a fault but a refusal, raised by the guard while the box is locked.
 */

/** Base class of every error raised by the remote lock. */
export class LockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

// ---------------------------------------------------------------------------
// Remote sent bad data

/** Reason code of a rejected statement, also logged as the `reason` field. */
export type RejectionReason =
  | "malformed"
  | "too-large"
  | "untrusted-key"
  | "invalid-signature"
  | "wrong-device"
  | "replayed"
  | "nonce-mismatch";

/** A statement that the box rejected. Its state on disk is unchanged. */
export class LockStatementRejected extends LockError {
  constructor(readonly reason: RejectionReason, message: string) {
    super(message);
  }
}

/** The statement is not valid JSON or misses a field, or a field has the wrong type or value. */
export class StatementMalformed extends LockStatementRejected {
  constructor(readonly field: string, readonly detail: string) {
    super("malformed", `Invalid lock statement: ${field} ${detail}. The lock authority must reissue it with the vendor tool.`);
  }
}

/** The statement body is larger than the configured limit. */
export class StatementTooLarge extends LockStatementRejected {
  constructor(readonly url: string, readonly limitBytes: number) {
    super("too-large", `Lock statement at ${url} is larger than maxStatementBytes (${limitBytes} bytes), so the download was aborted.`);
  }
}

/**
 * No signature is by the lock authority key. This covers statements signed by
 * update repository roles (root, timestamp, snapshot, targets) or any other key.
 */
export class StatementUntrustedKey extends LockStatementRejected {
  constructor(readonly keyIds: readonly string[], readonly expectedKeyId: string) {
    super(
      "untrusted-key",
      `Lock statement is signed by key(s) [${keyIds.join(", ")}], not by the lock authority key ${expectedKeyId}.`,
    );
  }
}

/** A signature claims the lock authority key ID but does not verify. */
export class StatementSignatureInvalid extends LockStatementRejected {
  constructor(readonly keyId: string) {
    super("invalid-signature", `Lock statement signature for key ${keyId} is invalid, so the statement was altered or forged.`);
  }
}

/** The statement is bound to another device ID. */
export class StatementWrongDevice extends LockStatementRejected {
  constructor(readonly expectedDeviceId: string, readonly actualDeviceId: string) {
    super("wrong-device", `Lock statement is for device ${actualDeviceId}, but this box is ${expectedDeviceId}.`);
  }
}

/** The sequence number is not above the stored one (or equal with different content). */
export class StatementReplayed extends LockStatementRejected {
  constructor(readonly storedSequence: number, readonly receivedSequence: number) {
    super(
      "replayed",
      `Lock statement sequence ${receivedSequence} is not greater than the stored sequence ${storedSequence}; ` +
        "an older statement was replayed. The lock authority must issue a statement with a higher sequence.",
    );
  }
}

/** An unlock does not carry the nonce of one of the box's latest check-ins. */
export class UnlockNonceMismatch extends LockStatementRejected {
  constructor(
    readonly expectedNonce: string | null,
    readonly receivedNonce: string | null,
    /** Number of recent check-in nonces the box accepted, in check-ins. */
    readonly acceptedCheckIns = expectedNonce === null ? 0 : 1,
  ) {
    super(
      "nonce-mismatch",
      expectedNonce === null
        ? "Unlock statement rejected: the box has no check-in nonce yet. Let the box check in, then reissue the unlock with its nonce."
        : `Unlock statement carries nonce ${receivedNonce ?? "(none)"}, which is not the nonce of any of the box's latest ${acceptedCheckIns} check-ins ` +
          `(latest ${expectedNonce}). Reissue the unlock with the nonce of the latest check-in.`,
    );
  }
}

// ---------------------------------------------------------------------------
// Transport failed

/** The network or the server failed, so nothing was applied. */
export class LockTransportError extends LockError {}

/** Fetching the statement failed: connection error, timeout or an HTTP status other than 200 and 404. */
export class StatementFetchFailed extends LockTransportError {
  constructor(readonly url: string, readonly status: number | null, readonly detail: string) {
    super(`Fetching lock statement ${url} failed: ${detail}. The box retries at its next update check.`);
  }
}

/** The check-in POST failed: connection error, timeout or a non-2xx status. */
export class CheckInFailed extends LockTransportError {
  constructor(readonly url: string, readonly status: number | null, readonly detail: string) {
    super(`Check-in to ${url} failed: ${detail}. The box retries at its next update check.`);
  }
}

// ---------------------------------------------------------------------------
// Caller misuse or unusable local state

/** A setting passed by the caller is invalid, or local state cannot be used. */
export class LockUsageError extends LockError {}

/** A setting (URL, device ID, key) is invalid. */
export class LockSettingInvalid extends LockUsageError {
  constructor(readonly setting: string, readonly value: string, readonly detail: string) {
    super(`Invalid ${setting} ${JSON.stringify(value)}: ${detail}.`);
  }
}

/** A lock state file exists but cannot be read or parsed. */
export class LockStateCorrupt extends LockUsageError {
  constructor(readonly path: string, readonly detail: string) {
    super(`Lock state file ${path} is unreadable: ${detail}. The box stays locked until the lock authority sends a valid statement.`);
  }
}

// ---------------------------------------------------------------------------
// Refusal while locked

/** Raised by the guard: the box is locked by the lock authority and refuses the action. */
export class DeviceLocked extends LockError {
  constructor(
    readonly action: string,
    readonly sequence: number,
    readonly statusMessage: string,
    readonly contact: string,
  ) {
    super(`Refused ${action}. ${lockedText(sequence, statusMessage, contact)}`);
  }
}

/**
 * Returns the text a locked box sends: who locked it, the lock authority's
 * message and whom to contact, each as its own sentence.
 */
export function lockedText(sequence: number, statusMessage: string, contact: string): string {
  const sentences = [`This box is locked by the DCC, its lock authority (lock sequence ${sequence}).`];
  if (statusMessage.trim() !== "") {
    sentences.push(asSentence(statusMessage));
  }
  if (contact.trim() !== "") {
    sentences.push(asSentence(`Contact: ${contact.trim()}`));
  }
  return sentences.join(" ");
}

/** Returns `text` trimmed and ending in a full stop, unless it already ends in one of `.!?`. */
function asSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

// ---------------------------------------------------------------------------
// Lock authority side: a box sent a bad check-in

/** Fix for the lock authority after an invalid check-in report, by the field at fault. */
const CHECK_IN_FIXES: Record<string, string> = {
  signatures:
    "Pass the box's identity public key as --device-key: the identity.pub.json file in the box's state folder, which the factory command writes and prints. " +
    "If that key is right, the report was altered after the box signed it.",
  default: "Pass the check-in report exactly as the box POSTed it to lock.checkInUrl.",
};

/** A check-in report received by the lock authority is malformed, or its signature is invalid. */
export class CheckInInvalid extends LockError {
  constructor(readonly field: string, readonly detail: string) {
    super(`Invalid check-in report: ${field} ${detail}. ${CHECK_IN_FIXES[field] ?? CHECK_IN_FIXES.default}`);
  }
}
