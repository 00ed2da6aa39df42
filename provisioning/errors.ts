/**
 * Errors of factory provisioning and of loading its data, grouped by who is
 * at fault:
 * - {@link ProvisioningUsageError}: the operator passed a bad option or file, or provisioning would overwrite an identity;
 * - {@link ProvisioningDataInvalid}: the data in the state directory is damaged.
 * A box that is locked raises `DeviceLocked` from the remote lock instead.
 */

/** Base class of every provisioning error. */
export class ProvisioningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The operator's request cannot be carried out as given. */
export class ProvisioningUsageError extends ProvisioningError {}

/** An option or an input file is invalid. */
export class ProvisioningInputInvalid extends ProvisioningUsageError {
  constructor(readonly option: string, readonly value: string, readonly detail: string) {
    super(`Invalid ${option} ${JSON.stringify(value)}: ${detail}.`);
  }
}

/** The state directory already contains a factory identity, and `--force` was not given. */
export class AlreadyProvisioned extends ProvisioningUsageError {
  constructor(readonly stateDir: string, readonly deviceId: string) {
    super(
      `State directory ${stateDir} is already provisioned as device ${deviceId}. ` +
        "Pass --force to replace its identity. The lock authority and the admin users must then learn the new one.",
    );
  }
}

/** Provisioning data in the state directory is missing a part, or cannot be parsed. */
export class ProvisioningDataInvalid extends ProvisioningError {
  constructor(readonly path: string, readonly detail: string) {
    super(`Provisioning data ${path} is invalid: ${detail}. Run the factory command again with --force.`);
  }
}
