/**
 * Errors of the update path, grouped by who is at fault:
 * - `RepositoryError`: the repository or a mirror sent data that fails a TUF
 *   or release rule. Retrying later may help; the trusted state is unchanged.
 * - `TransportError`: the download itself failed or was too large.
 * - `ClockError`: the device clock cannot be trusted for expiry checks.
 * - `CallerError`: the caller asked for something the rules do not allow.
 *
 * Each class carries the values that failed as fields, so tests and callers
 * match on fields, never on message text.
 */

export type Fault = "repository" | "transport" | "clock" | "caller";

export abstract class UpdateError extends Error {
  abstract readonly fault: Fault;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export abstract class RepositoryError extends UpdateError {
  readonly fault = "repository" as const;
}

export abstract class TransportError extends UpdateError {
  readonly fault = "transport" as const;
}

export abstract class ClockError extends UpdateError {
  readonly fault = "clock" as const;
}

export abstract class CallerError extends UpdateError {
  readonly fault = "caller" as const;
}

// Repository faults.

/** The bytes are not valid metadata: bad JSON, a duplicate key, a float, a missing or mistyped field. */
export class InvalidMetadata extends RepositoryError {
  constructor(
    readonly role: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`Invalid ${role} metadata: ${field} ${reason}.`);
  }
}

/** `_type` is not the role that was requested, for example targets served as snapshot. */
export class WrongType extends RepositoryError {
  constructor(
    readonly expected: string,
    readonly received: string,
  ) {
    super(`Metadata has _type "${received}" where "${expected}" was requested; the file was served under the wrong name.`);
  }
}

/** A signature problem that rejects the file even before thresholds are counted. */
export class BadSignature extends RepositoryError {
  constructor(
    readonly role: string,
    readonly keyid: string,
    readonly reason: string,
  ) {
    super(`Signature of ${role} by key ${keyid} is rejected: ${reason}.`);
  }
}

/** Fewer unique keys signed than the role's threshold requires. */
export class ThresholdNotMet extends RepositoryError {
  constructor(
    readonly role: string,
    readonly valid: number,
    readonly threshold: number,
    /** Whose key list was used: the trusted root, or the new root during a rotation. */
    readonly keysFrom: "trusted root" | "new root",
  ) {
    super(`${role} has ${valid} valid signatures from keys of the ${keysFrom}; the threshold is ${threshold}.`);
  }
}

/** A version went down, or did not go up where it must. */
export class Rollback extends RepositoryError {
  constructor(
    readonly role: string,
    readonly trusted: number,
    readonly received: number,
  ) {
    super(`${role} version ${received} is lower than the trusted version ${trusted}; the repository served old metadata.`);
  }
}

/** A version differs from the one its parent lists (mix-and-match), or from the one in the file name. */
export class VersionMismatch extends RepositoryError {
  constructor(
    readonly role: string,
    readonly expected: number,
    readonly received: number,
  ) {
    super(`${role} has version ${received} where ${expected} was expected.`);
  }
}

/** Metadata expired at the reference time fixed at the start of the refresh. */
export class Expired extends RepositoryError {
  constructor(
    readonly role: string,
    readonly expires: Date,
    readonly referenceTime: Date,
  ) {
    super(`${role} metadata expired at ${expires.toISOString()} (reference time ${referenceTime.toISOString()}); the repository must re-sign it.`);
  }
}

/** Downloaded bytes differ in length or hash from what the parent metadata lists. */
export class LengthOrHashMismatch extends RepositoryError {
  constructor(
    readonly file: string,
    readonly field: "length" | string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`${file} has ${field} ${received} where ${expected} was listed.`);
  }
}

/** A file the trusted snapshot lists is missing from the new one, or targets.json is missing. */
export class MetaFileMissing extends RepositoryError {
  constructor(
    readonly role: string,
    readonly file: string,
  ) {
    super(`${role} metadata does not list ${file}, which it must.`);
  }
}

/** A target lists only hash algorithms this client cannot check (TUF 5.7). */
export class UnsupportedHashAlgorithm extends RepositoryError {
  constructor(
    readonly target: string,
    readonly algorithms: string[],
  ) {
    super(`Target ${target} lists only hash algorithms [${algorithms.join(", ")}]; sha256 or sha512 is required.`);
  }
}

/** A target's signed release fields contradict where it is listed, for example an upcoming release under current/. */
export class ReleaseFieldMismatch extends RepositoryError {
  constructor(
    readonly target: string,
    readonly field: string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`Target ${target} has ${field} "${received}" where "${expected}" was expected.`);
  }
}

// Transport faults.

/** The request failed or returned a status other than 200. */
export class DownloadError extends TransportError {
  constructor(
    readonly url: string,
    readonly status: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Download of ${url} failed: ${reason}.`, options);
  }
}

/** The server sent more bytes than the named limit allows; the download was aborted at the limit. */
export class DownloadTooLarge extends TransportError {
  constructor(
    readonly url: string,
    readonly limit: number,
    readonly setting: string,
  ) {
    super(`Download of ${url} exceeded ${limit} bytes (${setting}); aborted.`);
  }
}

// Clock faults.

/** The device clock reads earlier than the latest time a refresh already trusted. */
export class ClockWentBackwards extends ClockError {
  constructor(
    readonly now: Date,
    readonly latestKnownTime: Date,
  ) {
    super(`System time ${now.toISOString()} is earlier than the latest known good time ${latestKnownTime.toISOString()}; set the clock right before updating.`);
  }
}

// Caller faults.

/** Metadata methods were called in an order TUF does not allow, for example snapshot before timestamp. */
export class OutOfOrder extends CallerError {
  constructor(
    readonly operation: string,
    readonly missing: string,
  ) {
    super(`Cannot ${operation} before ${missing} is loaded.`);
  }
}

/** There is no trusted root to start from. */
export class NotInitialized extends CallerError {
  constructor(readonly folder: string) {
    super(`No trusted root.json in ${folder}; initialise the client with the vendor's root first.`);
  }
}

/** The pinned version is not listed in the signed targets of this channel. */
export class PinnedVersionNotFound extends CallerError {
  constructor(
    readonly version: string,
    readonly channel: string,
    /** Versions of the channel's full releases this box may install, highest counter first. */
    readonly available: readonly string[] = [],
  ) {
    super(
      `Version ${version} is not listed on channel ${channel}. ` +
        `Versions available on ${channel}: ${available.length === 0 ? "none" : available.join(", ")}. ` +
        "Pin one of them, unpin, or follow the channel that lists the version first.",
    );
  }
}

/** The requested release is lower than the installed one and no signed, confirmed downgrade covers it. */
export class DowngradeRefused extends CallerError {
  constructor(
    readonly installedCounter: number,
    readonly candidateCounter: number,
    readonly reason: "not signed" | "not confirmed",
  ) {
    super(
      reason === "not signed"
        ? `Release counter ${candidateCounter} is below the installed ${installedCounter} and the vendor signed no downgrade to it.`
        : `Release counter ${candidateCounter} is below the installed ${installedCounter}; confirm the downgrade to install it.`,
    );
  }
}

/** The vendor revoked this release; it is never installed. */
export class ReleaseRevoked extends CallerError {
  constructor(
    readonly version: string,
    readonly reason: string,
  ) {
    super(`Release ${version} was revoked by the vendor (${reason}); pick another version.`);
  }
}

/** The release is signed but not for this device, for example another hardware id. */
export class ReleaseNotApplicable extends CallerError {
  constructor(
    readonly version: string,
    readonly field: string,
    readonly deviceValue: string,
  ) {
    super(`Release ${version} does not list ${field} "${deviceValue}" of this device.`);
  }
}

/** A value given by the caller is malformed, for example a version that is not semver. */
export class InvalidArgument extends CallerError {
  constructor(
    readonly argument: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`Invalid ${argument} "${value}": expected ${expected}.`);
  }
}
