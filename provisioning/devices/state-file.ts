import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

import { readCertificateFields, type KeyUsageName } from "./certificate.ts";
import { KEY_USAGE_DIGITAL_SIGNATURE_BIT, KEY_USAGE_KEY_AGREEMENT_BIT, MAX_CREDENTIAL_FILE_BYTES } from "./consts.ts";
import { StoredCredentialsError } from "./errors.ts";
import type { Eui } from "./eui.ts";

/** One key pair of a device and its certificate. */
export interface DeviceKeyPair {
  certificateDer: Uint8Array;
  certificate: X509Certificate;
  serial: bigint;
  /** The serial as upper-case hex of even length, the form SMKI search results use. */
  serialHex: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Version of the per-device state file layout. */
const STATE_FILE_VERSION = 1;

/** Layout of `<stateDir>/<eui>.json`, mode 0600. */
interface StateFile {
  version: number;
  eui: string;
  ds: { certificate: string; privateKey: string };
  ka: { certificate: string; privateKey: string };
}

const EXPECTED_KEY_USAGE_BIT: Record<KeyUsageName, number> = {
  digitalSignature: KEY_USAGE_DIGITAL_SIGNATURE_BIT,
  keyAgreement: KEY_USAGE_KEY_AGREEMENT_BIT,
};

/** Returns the serial as upper-case hex of even length, so 0x0f48… reads `0F48…`. */
export function formatSerialHex(serial: bigint): string {
  const hex = serial.toString(16).toUpperCase();
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** Builds a key pair from a DER certificate and its private key. */
export function makeKeyPair(certificateDer: Uint8Array, privateKey: KeyObject): DeviceKeyPair {
  const certificate = new X509Certificate(certificateDer);
  const serial = BigInt(`0x${certificate.serialNumber}`);
  return {
    certificateDer,
    certificate,
    serial,
    serialHex: formatSerialHex(serial),
    privateKey,
    publicKey: createPublicKey(privateKey),
  };
}

/** Serialises both pairs of a device as the JSON text of its state file. */
export function encodeStateFile(eui: Eui, ds: DeviceKeyPair, ka: DeviceKeyPair): string {
  const pair = (keyPair: DeviceKeyPair) => ({
    certificate: keyPair.certificate.toString(),
    privateKey: String(keyPair.privateKey.export({ type: "pkcs8", format: "pem" })),
  });
  const file: StateFile = { version: STATE_FILE_VERSION, eui, ds: pair(ds), ka: pair(ka) };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Reads and checks the state file of one device. `isTrustedIssuer` decides
 * whether a certificate was issued by a key boxd trusts. Raises
 * StoredCredentialsError naming the file and the defect.
 */
export function readStateFile(
  path: string,
  eui: Eui,
  isTrustedIssuer: (certificate: X509Certificate, usage: KeyUsageName) => boolean,
): { ds: DeviceKeyPair; ka: DeviceKeyPair } {
  const size = statSync(path).size;
  if (size > MAX_CREDENTIAL_FILE_BYTES) {
    throw new StoredCredentialsError(path, eui, `the file has ${size} bytes, more than MAX_CREDENTIAL_FILE_BYTES (${MAX_CREDENTIAL_FILE_BYTES})`);
  }

  let file: Partial<StateFile>;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as Partial<StateFile>;
  } catch (error) {
    throw new StoredCredentialsError(path, eui, `it is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (file.version !== STATE_FILE_VERSION) {
    throw new StoredCredentialsError(path, eui, `version ${String(file.version)} is not the supported version ${STATE_FILE_VERSION}`);
  }
  if (file.eui !== eui) {
    throw new StoredCredentialsError(path, eui, `the file belongs to EUI ${String(file.eui)}`);
  }

  return {
    ds: readPair(path, eui, "digitalSignature", file.ds, isTrustedIssuer),
    ka: readPair(path, eui, "keyAgreement", file.ka, isTrustedIssuer),
  };
}

function readPair(
  path: string,
  eui: Eui,
  usage: KeyUsageName,
  stored: { certificate?: unknown; privateKey?: unknown } | undefined,
  isTrustedIssuer: (certificate: X509Certificate, usage: KeyUsageName) => boolean,
): DeviceKeyPair {
  if (typeof stored?.certificate !== "string" || typeof stored.privateKey !== "string") {
    throw new StoredCredentialsError(path, eui, `the ${usage} entry lacks a PEM certificate or private key`);
  }

  let pair: DeviceKeyPair;
  try {
    const certificate = new X509Certificate(stored.certificate);
    pair = makeKeyPair(new Uint8Array(certificate.raw), createPrivateKey(stored.privateKey));
  } catch (error) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate or key cannot be parsed (${(error as Error).message})`, { cause: error });
  }

  if (!pair.certificate.checkPrivateKey(pair.privateKey)) {
    throw new StoredCredentialsError(path, eui, `the ${usage} private key does not match its certificate`);
  }

  let fields;
  try {
    fields = readCertificateFields(pair.certificateDer);
  } catch (error) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate is not valid DER (${(error as Error).message})`, { cause: error });
  }
  if (fields.hardwareModuleEui !== eui) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate names EUI ${String(fields.hardwareModuleEui)} in its subjectAltName`);
  }

  const expectedBit = EXPECTED_KEY_USAGE_BIT[usage];
  if (fields.keyUsageBits.length !== 1 || fields.keyUsageBits[0] !== expectedBit) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate has keyUsage bits [${fields.keyUsageBits.join(",")}], expected [${expectedBit}]`);
  }

  if (!isTrustedIssuer(pair.certificate, usage)) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate is not signed by the access control broker DS key`);
  }
  return pair;
}
