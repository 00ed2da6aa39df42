/**
 * Errors of the download and A/B install, grouped by who is at fault:
 * - {@link RemoteDataError}: the update server sent bad data; the partial
 *   download is deleted and a retry starts from byte 0;
 * - {@link TransportError}: the connection failed or was too slow; the
 *   partial download is kept so a retry can resume it with HTTP Range;
 * - {@link LocalError}: this machine cannot store or read the update;
 * - {@link CallerError}: the caller asked for something that the current
 *   install state does not allow.
 */

/** Action a caller takes before it tries the same target again. */
export type RetryAdvice = "resume" | "restart" | "after-space-freed" | "none";

export abstract class InstallError extends Error {
  abstract readonly fault: "remote" | "transport" | "local" | "caller";
  abstract readonly retry: RetryAdvice;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

// ---- The update server sent bad data -------------------------------------

export abstract class RemoteDataError extends InstallError {
  readonly fault = "remote" as const;
  readonly retry: RetryAdvice = "restart";
}

/** The server sent more bytes than the signed target length; TUF clients download at most `length` bytes. */
export class LengthExceeded extends RemoteDataError {
  constructor(
    readonly limit: number,
    readonly received: number,
    readonly url: string,
  ) {
    super(
      `Download of ${url} exceeded the signed target length: received ${received} bytes, limit ${limit}. ` +
        "The server is serving another file or an endless stream; the partial download was deleted.",
    );
  }
}

/** The SHA-256 of the whole downloaded file differs from the signed target hash. */
export class HashMismatch extends RemoteDataError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly url: string,
  ) {
    super(
      `SHA-256 of ${url} is ${actual}, expected ${expected} from the signed target. ` +
        "The file was deleted; check that the server publishes the image the metadata names.",
    );
  }
}

// ---- The transport failed -------------------------------------------------

export abstract class TransportError extends InstallError {
  readonly fault = "transport" as const;
  readonly retry: RetryAdvice = "resume";
}

/** Download limit that cut a slow or silent server off. */
export type StallReason = "deadline" | "idle" | "throughput";

/** A slow or silent server was cut off by a named limit of {@link DownloadLimits}. */
export class DownloadStalled extends TransportError {
  constructor(
    readonly reason: StallReason,
    readonly limitName: string,
    readonly limitValue: number,
    readonly bytesReceived: number,
    readonly elapsedMs: number,
    readonly url: string,
  ) {
    super(
      `Download of ${url} stalled: ${limitName}=${limitValue} was exceeded after ${elapsedMs} ms ` +
        `after receiving ${bytesReceived} bytes in this attempt. The partial file was kept; retry later to resume it.`,
    );
  }
}

/** The server returned a status this client cannot use. */
export class HttpStatus extends TransportError {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(
      `Download of ${url} failed with HTTP status ${status}; expected 200, or 206 to a Range request. ` +
        "Check the target URL and the update server.",
    );
  }
}

/** The request could not be sent or its response headers never arrived. */
export class ConnectionFailed extends TransportError {
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(`Could not connect to ${url}: ${describeCause(options?.cause)}. Check the network and the update server.`, options);
  }
}

/** The connection ended before the signed target length was reached. */
export class DownloadIncomplete extends TransportError {
  constructor(
    readonly received: number,
    readonly expected: number,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(
      `Download of ${url} ended at byte ${received} of ${expected}. ` +
        "The partial file was kept; retry to resume it with HTTP Range.",
      options,
    );
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

// ---- This machine ---------------------------------------------------------

export abstract class LocalError extends InstallError {
  readonly fault = "local" as const;
  readonly retry: RetryAdvice = "none";
}

/** The staging file system has less free space than the rest of the image needs. */
export class InsufficientSpace extends LocalError {
  override readonly retry: RetryAdvice = "after-space-freed";

  constructor(
    readonly needed: number,
    readonly available: number,
    readonly path: string,
  ) {
    super(
      `Not enough free space in ${path}: the update needs ${needed} bytes, ${available} are available. ` +
        "Free space there; the download was not started and its partial file was deleted.",
    );
  }
}

/** The boot-state file exists but cannot be read as a boot state. */
export class BootStateInvalid extends LocalError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`Boot state ${path} is invalid: ${detail}. Restore it from a backup or reinstall an update.`);
  }
}

// ---- The caller -----------------------------------------------------------

export abstract class CallerError extends InstallError {
  readonly fault = "caller" as const;
  readonly retry: RetryAdvice = "none";
}

/** A field of the target handed to the installer is malformed. */
export class InvalidTarget extends CallerError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`Invalid update target: ${field} is ${JSON.stringify(value)}, expected ${expected}.`);
  }
}

/** An install was requested for a state folder that another install is using. */
export class InstallInProgress extends CallerError {
  constructor(readonly stateDir: string) {
    super(`An install into ${stateDir} is already running; wait for it to finish.`);
  }
}

/** A new install was requested while the last one still waits for its health report. */
export class TrialInProgress extends CallerError {
  constructor(
    readonly slot: string,
    readonly version: string,
  ) {
    super(
      `Version ${version} in slot ${slot} is still on trial. ` +
        "Restart boxd so the slot runs and reports healthy, or roll back (admin-cli rollback), before installing another update.",
    );
  }
}

/** The release failed its trial or was rolled back before, so it is not installed again. */
export class ReleaseMarkedBad extends CallerError {
  constructor(
    readonly targetName: string,
    readonly sha256: string,
    readonly reason: string,
    readonly version: string,
  ) {
    super(
      `Release ${version} (${targetName}) is marked bad (${reason}) and is not installed again. ` +
        `To try it again, clear the mark with "npx bun daemon/admin-cli.ts clear-bad ${version}" (DELETE /update/bad/${version}), or publish a newer release.`,
    );
  }
}

/** A rollback was requested but the other slot contains no image that verifies. */
export class NoRollbackSlot extends CallerError {
  constructor(readonly slot: string | null) {
    super(
      `Cannot roll back: slot ${slot ?? "(none)"} holds no verified image. ` +
        "Install an update first; the running version stays active.",
    );
  }
}

/** markHealthy() was called while another slot than the trial slot is active, or after the health deadline. */
export class NoTrialToConfirm extends CallerError {
  constructor(readonly detail: string) {
    super(`markHealthy() has nothing to confirm: ${detail}.`);
  }
}
