/**
 * Errors of the GBCS layer, grouped by who is at fault:
 * - {@link GbcsRemoteDataError}: the remote party sent bytes that break a GBCS rule (bad framing, a MAC or
 *   signature that does not verify, a ciphertext that does not authenticate);
 * - {@link GbcsUsageError}: the caller passed an invalid argument or a key that cannot be used.
 *
 * This layer does no network I/O, so it has no transport errors. A key store or counter file that cannot be
 * read surfaces as {@link KeyStoreError} or {@link CounterFileError}.
 */
export abstract class GbcsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes from the remote party that this layer cannot accept. */
export abstract class GbcsRemoteDataError extends GbcsError {}

/** A field is missing, too short, or contains a value that GBCS does not allow. */
export class GbcsDecodeError extends GbcsRemoteDataError {
  constructor(
    readonly structure: string,
    readonly field: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`Invalid ${structure}: ${field} at byte ${offset}: ${detail}`);
  }
}

/** The 12-byte MAC of a General Ciphering APDU does not match the one computed from the keys. */
export class GbcsMacMismatchError extends GbcsRemoteDataError {
  constructor(
    readonly originator: string,
    readonly recipient: string,
    readonly counter: bigint,
  ) {
    super(
      `MAC mismatch on the message from ${originator} to ${recipient} with counter ${counter}: ` +
        "check that both key agreement keys belong to these system titles",
    );
  }
}

/** The ECDSA signature of a General Signing APDU is missing or does not verify. */
export class GbcsSignatureInvalidError extends GbcsRemoteDataError {
  constructor(
    readonly originator: string,
    readonly counter: bigint,
    readonly detail: string,
  ) {
    super(`Invalid signature on the message from ${originator} with counter ${counter}: ${detail}`);
  }
}

/** A command's originator counter is not greater than the last one the device accepted from that originator. */
export class GbcsReplayError extends GbcsRemoteDataError {
  constructor(
    readonly device: string,
    readonly originator: string,
    readonly counter: bigint,
    readonly lastAccepted: bigint,
  ) {
    super(
      `Replayed command to ${device} from ${originator}: counter ${counter} is not greater than ` +
        `the last accepted ${lastAccepted}; the sender must use a new, higher counter`,
    );
  }
}

/** AES-GCM decryption of a protected payload failed, because the tag or the key does not match. */
export class GbcsDecryptionError extends GbcsRemoteDataError {
  constructor(
    readonly originator: string,
    readonly detail: string,
  ) {
    super(`Decryption of the payload from ${originator} failed: ${detail}`);
  }
}

/** The caller passed a value that this layer cannot encode or use. */
export class GbcsUsageError extends GbcsError {
  constructor(
    readonly argument: string,
    readonly detail: string,
  ) {
    super(`Invalid ${argument}: ${detail}`);
  }
}

/** A key store file is unreadable, or has no entry that matches a lookup. */
export class KeyStoreError extends GbcsError {
  constructor(
    readonly source: string,
    readonly detail: string,
  ) {
    super(`Key store ${source}: ${detail}`);
  }
}

/** The file that stores accepted command counters is unreadable or invalid. */
export class CounterFileError extends GbcsError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`Command counter file ${path}: ${detail}`);
  }
}
