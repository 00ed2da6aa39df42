/**
 * Errors of device credential provisioning, grouped by who is at fault:
 * the caller (a bad device list), or the data on disk (trust material or a
 * stored credential file that is missing or invalid).
 */

/** The caller passed a device list that cannot be provisioned. */
export class DeviceListError extends Error {
  override readonly name = "DeviceListError";

  constructor(
    readonly eui: string,
    readonly reason: string,
  ) {
    super(`Device ${JSON.stringify(eui)} cannot be provisioned: ${reason}.`);
  }
}

/** A trust file (keystore.json, an RTDS key or certificate) is missing or invalid. */
export class TrustMaterialError extends Error {
  override readonly name = "TrustMaterialError";

  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`Trust material ${path} is invalid: ${reason}. Restore the file from the boxd source tree.`, options);
  }
}

/**
 * A stored device credential file is unreadable or does not match its device.
 * boxd never replaces it on its own, because clients cache device certificates
 * for good and a new key would break them.
 */
export class StoredCredentialsError extends Error {
  override readonly name = "StoredCredentialsError";

  constructor(
    readonly path: string,
    readonly eui: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `Stored credentials of device ${eui} in ${path} are invalid: ${reason}. ` +
        "Restore the file from a backup, or delete it to mint new keys (clients that cached the old certificates must then drop them).",
      options,
    );
  }
}
