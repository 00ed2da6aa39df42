import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../daemon/state/atomic.ts";
import { logger, type Logger } from "../daemon/log.ts";
import { DeviceLocked, LockSettingInvalid, LockStateCorrupt } from "../update/lock/errors.ts";
import { bytesToHex } from "@noble/hashes/utils.js";
import { generateKeyPair, keyIdOf, readPublicKeyFile, writePublicKeyFile, writeSecretKeyFile } from "../update/lock/keys.ts";
import { isDeviceId } from "../update/lock/statement.ts";
import { LockStore } from "../update/lock/store.ts";
import type { Ed25519PublicKey } from "../update/lock/keys.ts";
import type { StickAllowlistEntry } from "./allowlist.ts";
import {
  DEVELOPMENT_ADMIN_TOKEN_FILE,
  DEVICE_CREDENTIALS_FOLDER,
  IDENTITY_KEY_FILE,
  IDENTITY_PUBLIC_KEY_FILE,
  LOCK_AUTHORITY_KEY_FILE,
  MAX_ROOT_METADATA_BYTES,
  PROVISIONING_FORMAT,
  ROOT_METADATA_FILE,
  SECRET_FILE_MODE,
  STATE_DIRECTORY_MODE,
} from "./constants.ts";
import { generateAdminToken, generateDeviceId, hashAdminToken } from "./credentials.ts";
import { AlreadyProvisioned, ProvisioningInputInvalid } from "./errors.ts";
import type { DeviceCredentialsHook } from "./hooks.ts";
import { allowlistToText, readRecord, writeRecord } from "./record.ts";

/** Inputs of {@link provisionDevice}, as the factory command's options give them. */
export type FactoryOptions = {
  stateDir: string;
  /** First root metadata of the update repository (TUF `root.json`). */
  rootMetadataPath: string;
  /** Public key file of the lock authority, as written by `update/lock/vendor.ts keygen`. */
  lockAuthorityKeyPath: string;
  allowlist: StickAllowlistEntry[];
  /** Replace an existing factory identity. A locked box is never re-provisioned. */
  force: boolean;
  /** Device ID to use. A random one is generated if it is left out. */
  deviceId?: string;
  deviceCredentials?: DeviceCredentialsHook;
  log?: Logger;
};

/** Result of {@link provisionDevice}. `adminToken` exists only here and must be shown once, then dropped. */
export type FactoryResult = {
  deviceId: string;
  identityKeyId: string;
  /** Public identity key, lowercase hex; the lock authority verifies check-ins with it. */
  identityPublicKey: string;
  /** Path of the public identity key file, for the lock tool's `--device-key`. */
  identityPublicKeyPath: string;
  lockAuthorityKeyId: string;
  adminToken: string;
  /** True if an earlier identity (factory or development) was replaced. */
  replaced: boolean;
};

/**
 * Provisions a box: device ID, identity key pair, trust anchors, admin
 * credential and Zigbee stick allowlist, all written atomically into the
 * state directory (mode 0700). The record `provisioning.json` is written last,
 * so an interrupted run leaves no half-provisioned box.
 *
 * Raises {@link ProvisioningInputInvalid} for a bad input, {@link AlreadyProvisioned}
 * when a factory identity exists and `force` is false, and `DeviceLocked`
 * when the box is locked by the lock authority.
 */
export async function provisionDevice(options: FactoryOptions): Promise<FactoryResult> {
  const log = options.log ?? logger("provisioning.factory");
  const deviceId = options.deviceId ?? generateDeviceId();
  if (!isDeviceId(deviceId)) {
    throw new ProvisioningInputInvalid("--device-id", deviceId, "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }

  const rootMetadata = readRootMetadata(options.rootMetadataPath);
  const lockAuthorityKey = readLockAuthorityKey(options.lockAuthorityKeyPath);
  rejectSharedLockKey(lockAuthorityKey, rootMetadata.keys, options.lockAuthorityKeyPath);

  prepareStateDirectory(options.stateDir);
  const replaced = checkExistingIdentity(options.stateDir, options.force);

  const identity = generateKeyPair();
  const adminToken = generateAdminToken();
  writeSecretKeyFile(join(options.stateDir, IDENTITY_KEY_FILE), identity);
  const identityPublicKeyPath = join(options.stateDir, IDENTITY_PUBLIC_KEY_FILE);
  writePublicKeyFile(identityPublicKeyPath, identity.publicKey);
  writeFileAtomic(join(options.stateDir, ROOT_METADATA_FILE), rootMetadata.bytes, SECRET_FILE_MODE);
  writeJsonAtomic(join(options.stateDir, LOCK_AUTHORITY_KEY_FILE), lockAuthorityKey, SECRET_FILE_MODE);

  if (options.deviceCredentials !== undefined) {
    const credentialsDir = join(options.stateDir, DEVICE_CREDENTIALS_FOLDER);
    mkdirSync(credentialsDir, { recursive: true, mode: STATE_DIRECTORY_MODE });
    await options.deviceCredentials({ stateDir: options.stateDir, credentialsDir, deviceId, log });
  }

  const lockAuthorityKeyId = keyIdOf(lockAuthorityKey);
  writeRecord(options.stateDir, {
    format: PROVISIONING_FORMAT,
    mode: "factory",
    deviceId,
    identityKeyId: identity.keyId,
    lockAuthorityKeyId,
    adminCredential: hashAdminToken(adminToken),
    allowlist: allowlistToText(options.allowlist),
    provisionedAt: new Date().toISOString(),
  });
  rmSync(join(options.stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE), { force: true });

  log.info({ deviceId, identityKeyId: identity.keyId, lockAuthorityKeyId, sticks: options.allowlist.length, replaced }, "box provisioned");
  return {
    deviceId,
    identityKeyId: identity.keyId,
    identityPublicKey: bytesToHex(identity.publicKey),
    identityPublicKeyPath,
    lockAuthorityKeyId,
    adminToken,
    replaced,
  };
}

/** Creates the state directory, or narrows its mode to 0700 if it already exists. */
export function prepareStateDirectory(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: STATE_DIRECTORY_MODE });
  if ((statSync(stateDir).mode & 0o777) !== STATE_DIRECTORY_MODE) {
    chmodSync(stateDir, STATE_DIRECTORY_MODE);
  }
}

/**
 * Raises unless the state directory may receive a new identity, and returns
 * whether one is replaced. A development identity is replaced freely. A
 * factory identity needs `force`, and is kept while the box is locked, so
 * that re-provisioning is no way out of the lock.
 */
function checkExistingIdentity(stateDir: string, force: boolean): boolean {
  const existing = readRecord(stateDir);
  if (existing === null) {
    return false;
  }

  if (existing.mode === "development") {
    return true;
  }

  if (!force) {
    throw new AlreadyProvisioned(stateDir, existing.deviceId);
  }

  let locked: { state: string; sequence: number; message: string; contact: string };
  try {
    locked = new LockStore(stateDir).readLockState(existing.deviceId).state;
  } catch (error) {
    if (!(error instanceof LockStateCorrupt)) {
      throw error;
    }
    // The remote lock treats an unreadable state as locked, and so does re-provisioning.
    locked = { state: "locked", sequence: 0, message: error.message, contact: "the owner of this box" };
  }

  if (locked.state === "locked") {
    throw new DeviceLocked("re-provisioning", locked.sequence, locked.message, locked.contact);
  }

  return true;
}

function readLockAuthorityKey(path: string): Ed25519PublicKey {
  try {
    return readPublicKeyFile(path, "--lock-key");
  } catch (error) {
    if (error instanceof LockSettingInvalid) {
      throw new ProvisioningInputInvalid("--lock-key", path, error.detail);
    }
    throw error;
  }
}

type RootMetadata = { bytes: Uint8Array; keys: Record<string, unknown> };

/**
 * Reads the first root metadata and checks that it is a TUF root. The update
 * client trusts this file as its starting point and checks its signatures.
 * The bytes are stored unchanged, so that those signatures still verify.
 */
function readRootMetadata(path: string): RootMetadata {
  if (!existsSync(path)) {
    throw new ProvisioningInputInvalid("--root", path, "file not found");
  }

  const size = statSync(path).size;
  if (size > MAX_ROOT_METADATA_BYTES) {
    throw new ProvisioningInputInvalid("--root", path, `the file has ${size} bytes, more than MAX_ROOT_METADATA_BYTES (${MAX_ROOT_METADATA_BYTES})`);
  }

  const bytes = readFileSync(path);
  let value: { signed?: { _type?: unknown; version?: unknown; keys?: unknown } };
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ProvisioningInputInvalid("--root", path, "the file is not valid JSON");
  }

  const signed = value?.signed;
  if (signed?._type !== "root") {
    throw new ProvisioningInputInvalid("--root", path, 'signed._type must be "root". Pass the repository\'s first root, metadata/1.root.json');
  }

  if (typeof signed.version !== "number" || !Number.isSafeInteger(signed.version) || signed.version < 1) {
    throw new ProvisioningInputInvalid("--root", path, "signed.version must be an integer of at least 1");
  }

  if (typeof signed.keys !== "object" || signed.keys === null) {
    throw new ProvisioningInputInvalid("--root", path, "signed.keys must be an object");
  }

  return { bytes, keys: signed.keys as Record<string, unknown> };
}

/**
 * Rejects a lock key that the update repository also uses. The lock key signs
 * lock statements and nothing else, so a stolen update role key (root,
 * timestamp, snapshot, targets) can never unlock a box.
 */
function rejectSharedLockKey(lockKey: Ed25519PublicKey, rootKeys: Record<string, unknown>, path: string): void {
  const lockKeyId = keyIdOf(lockKey);
  for (const [keyId, key] of Object.entries(rootKeys)) {
    const publicValue = (key as { keyval?: { public?: unknown } } | null)?.keyval?.public;
    if (keyId === lockKeyId || publicValue === lockKey.keyval.public) {
      throw new ProvisioningInputInvalid("--lock-key", path, `the key is also key ${keyId} of the update repository's root. Generate a separate lock key`);
    }
  }
}
