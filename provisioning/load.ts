import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../daemon/state/atomic.ts";
import { logger, type Logger } from "../daemon/log.ts";
import { LockError } from "../update/lock/errors.ts";
import {
  generateKeyPair,
  keyIdOf,
  readPublicKeyFile,
  readSecretKeyFile,
  writeSecretKeyFile,
  type Ed25519KeyPair,
  type Ed25519PublicKey,
} from "../update/lock/keys.ts";
import type { StickAllowlistEntry } from "./allowlist.ts";
import {
  DEVELOPMENT_ADMIN_TOKEN_FILE,
  IDENTITY_KEY_FILE,
  LOCK_AUTHORITY_KEY_FILE,
  PROVISIONING_FILE,
  PROVISIONING_FORMAT,
  ROOT_METADATA_FILE,
  SECRET_FILE_MODE,
} from "./constants.ts";
import { generateAdminToken, generateDeviceId, hashAdminToken, type AdminCredential } from "./credentials.ts";
import { ProvisioningDataInvalid } from "./errors.ts";
import { prepareStateDirectory } from "./provision.ts";
import { allowlistOf, readRecord, writeRecord, type ProvisioningMode, type ProvisioningRecord } from "./record.ts";

/** Trust anchors of a factory-provisioned box. */
export type TrustAnchors = {
  /** First root metadata of the update repository, byte for byte as provisioned. */
  rootMetadata: Uint8Array;
  rootMetadataPath: string;
  /** Public key of the lock authority, the only key that signs lock and unlock statements. */
  lockAuthorityKey: Ed25519PublicKey;
};

/** Provisioning data the daemon uses at boot. */
export type Provisioning = {
  mode: ProvisioningMode;
  stateDir: string;
  deviceId: string;
  identity: Ed25519KeyPair;
  /** Null in development mode: such a box has no update repository root and no lock authority. */
  anchors: TrustAnchors | null;
  /** Hash of the admin API token. Check a presented token with `verifyAdminToken`. */
  adminCredential: AdminCredential;
  /** Allowlisted Zigbee sticks, empty in development mode. */
  allowlist: StickAllowlistEntry[];
  /** Development mode only: file containing the admin token (mode 0600). */
  developmentAdminTokenPath: string | null;
};

/**
 * Loads the provisioning data from the state directory. If there is none,
 * switches to development mode: it generates a test identity and admin token,
 * persists them, and logs a warning, so the daemon starts on a fresh clone.
 * Later boots load the same development identity until the factory command
 * replaces it.
 *
 * Raises {@link ProvisioningDataInvalid} when the data exists but is damaged.
 */
export function loadProvisioning(stateDir: string, log: Logger = logger("provisioning")): Provisioning {
  prepareStateDirectory(stateDir);

  const record = readRecord(stateDir) ?? createDevelopmentIdentity(stateDir, log);
  const identity = readIdentity(stateDir, record.identityKeyId);
  const allowlist = allowlistOf(stateDir, record);

  if (record.mode === "development") {
    const developmentAdminTokenPath = join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE);
    log.warn(
      { deviceId: record.deviceId, stateDir, adminTokenFile: developmentAdminTokenPath },
      "development mode without factory provisioning, so updates and the remote lock are off",
    );
    return { mode: "development", stateDir, deviceId: record.deviceId, identity, anchors: null, adminCredential: record.adminCredential, allowlist, developmentAdminTokenPath };
  }

  const anchors = readAnchors(stateDir, record.lockAuthorityKeyId);
  log.info({ deviceId: record.deviceId, identityKeyId: identity.keyId, sticks: allowlist.length }, "provisioning loaded");
  return { mode: "factory", stateDir, deviceId: record.deviceId, identity, anchors, adminCredential: record.adminCredential, allowlist, developmentAdminTokenPath: null };
}

function createDevelopmentIdentity(stateDir: string, log: Logger): ProvisioningRecord {
  const identity = generateKeyPair();
  const adminToken = generateAdminToken();
  const record: ProvisioningRecord = {
    format: PROVISIONING_FORMAT,
    mode: "development",
    deviceId: generateDeviceId(),
    identityKeyId: identity.keyId,
    lockAuthorityKeyId: null,
    adminCredential: hashAdminToken(adminToken),
    allowlist: [],
    provisionedAt: new Date().toISOString(),
  };

  // The record goes last, so a crash before it leaves no development record behind.
  writeSecretKeyFile(join(stateDir, IDENTITY_KEY_FILE), identity);
  writeFileAtomic(join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE), `${adminToken}\n`, SECRET_FILE_MODE);
  writeRecord(stateDir, record);

  log.warn({ deviceId: record.deviceId, stateDir }, "created a development identity because no provisioning data exists");
  return record;
}

function readIdentity(stateDir: string, expectedKeyId: string): Ed25519KeyPair {
  const path = join(stateDir, IDENTITY_KEY_FILE);
  let identity: Ed25519KeyPair;
  try {
    identity = readSecretKeyFile(path, "identity key");
  } catch (error) {
    if (error instanceof LockError) {
      throw new ProvisioningDataInvalid(path, error.message);
    }
    throw error;
  }

  if (identity.keyId !== expectedKeyId) {
    throw new ProvisioningDataInvalid(path, `key ID ${identity.keyId} does not match ${expectedKeyId} in ${PROVISIONING_FILE}`);
  }

  return identity;
}

function readAnchors(stateDir: string, expectedLockKeyId: string | null): TrustAnchors {
  const rootMetadataPath = join(stateDir, ROOT_METADATA_FILE);
  if (!existsSync(rootMetadataPath)) {
    throw new ProvisioningDataInvalid(rootMetadataPath, "the root metadata anchor is missing");
  }

  const lockKeyPath = join(stateDir, LOCK_AUTHORITY_KEY_FILE);
  let lockAuthorityKey: Ed25519PublicKey;
  try {
    lockAuthorityKey = readPublicKeyFile(lockKeyPath, "lock authority key");
  } catch (error) {
    if (error instanceof LockError) {
      throw new ProvisioningDataInvalid(lockKeyPath, error.message);
    }
    throw error;
  }

  if (keyIdOf(lockAuthorityKey) !== expectedLockKeyId) {
    throw new ProvisioningDataInvalid(lockKeyPath, `key ID ${keyIdOf(lockAuthorityKey)} does not match ${expectedLockKeyId} in ${PROVISIONING_FILE}`);
  }

  return { rootMetadata: readFileSync(rootMetadataPath), rootMetadataPath, lockAuthorityKey };
}
