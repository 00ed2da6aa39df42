import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../daemon/state/atomic.ts";
import { isDeviceId } from "../update/lock/statement.ts";
import { formatStickEntry, parseStickEntry, type StickAllowlistEntry } from "./allowlist.ts";
import { PROVISIONING_FILE, PROVISIONING_FORMAT, SECRET_FILE_MODE } from "./constants.ts";
import type { AdminCredential } from "./credentials.ts";
import { ProvisioningDataInvalid } from "./errors.ts";

/** `factory`: made by the factory command. `development`: a test identity made at boot of an unprovisioned box. */
export type ProvisioningMode = "factory" | "development";

/** Content of `provisioning.json`. Secrets are in other files, and the admin token only as a hash. */
export type ProvisioningRecord = {
  format: typeof PROVISIONING_FORMAT;
  mode: ProvisioningMode;
  deviceId: string;
  /** TUF key ID of the identity key, to detect a key file that does not belong to this record. */
  identityKeyId: string;
  /** Key ID of the lock authority key, or null in development mode, which has no anchors. */
  lockAuthorityKeyId: string | null;
  adminCredential: AdminCredential;
  /** Allowlisted Zigbee sticks, in the text form of `parseStickEntry`. */
  allowlist: string[];
  /** Time of provisioning (ISO 8601), for the operator only. No check depends on it. */
  provisionedAt: string;
};

/** Writes `provisioning.json` atomically with mode 0600. */
export function writeRecord(stateDir: string, record: ProvisioningRecord): void {
  writeJsonAtomic(join(stateDir, PROVISIONING_FILE), record, SECRET_FILE_MODE);
}

/** Builds the text form of an allowlist for the record. */
export function allowlistToText(allowlist: readonly StickAllowlistEntry[]): string[] {
  return allowlist.map(formatStickEntry);
}

/** Reads `provisioning.json`, or returns null if the file does not exist. Raises {@link ProvisioningDataInvalid}. */
export function readRecord(stateDir: string): ProvisioningRecord | null {
  const path = join(stateDir, PROVISIONING_FILE);
  if (!existsSync(path)) {
    return null;
  }

  let value: Record<string, unknown>;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ProvisioningDataInvalid(path, `cannot read it as JSON (${(error as Error).message})`);
  }

  if (value?.format !== PROVISIONING_FORMAT) {
    throw new ProvisioningDataInvalid(path, `format must be ${PROVISIONING_FORMAT}`);
  }

  if (value.mode !== "factory" && value.mode !== "development") {
    throw new ProvisioningDataInvalid(path, `mode must be "factory" or "development"`);
  }

  if (!isDeviceId(value.deviceId) || typeof value.identityKeyId !== "string") {
    throw new ProvisioningDataInvalid(path, "deviceId or identityKeyId is missing or invalid");
  }

  const credential = value.adminCredential as Partial<AdminCredential> | undefined;
  if (credential?.algorithm !== "sha256" || typeof credential.hash !== "string" || !/^[0-9a-f]{64}$/.test(credential.hash)) {
    throw new ProvisioningDataInvalid(path, "adminCredential must be a SHA-256 hash in hex");
  }

  if (value.mode === "factory" && typeof value.lockAuthorityKeyId !== "string") {
    throw new ProvisioningDataInvalid(path, "lockAuthorityKeyId is missing");
  }

  if (!Array.isArray(value.allowlist) || !value.allowlist.every((entry) => typeof entry === "string")) {
    throw new ProvisioningDataInvalid(path, "allowlist must be an array of strings");
  }

  return value as ProvisioningRecord;
}

/** Parses the allowlist of a record. Raises {@link ProvisioningDataInvalid} for an invalid entry. */
export function allowlistOf(stateDir: string, record: ProvisioningRecord): StickAllowlistEntry[] {
  return record.allowlist.map((text) => {
    try {
      return parseStickEntry(text, "allowlist entry");
    } catch (error) {
      throw new ProvisioningDataInvalid(join(stateDir, PROVISIONING_FILE), (error as Error).message);
    }
  });
}
