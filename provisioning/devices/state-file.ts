import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

import { readCertificateFields, type KeyUsageName } from "./certificate.ts";
import { KEY_USAGE_DIGITAL_SIGNATURE_BIT, KEY_USAGE_KEY_AGREEMENT_BIT, MAX_CREDENTIAL_FILE_BYTES } from "./consts.ts";
import { StoredCredentialsError } from "./errors.ts";
import type { Eui } from "./eui.ts";

/** One key pair of a device and its certificate. */
export interface DeviceKeyPair {
  readonly certificateDer: Uint8Array;
  readonly certificate: X509Certificate;
  readonly serial: bigint;
  /** The serial as upper-case hex of even length, the form SMKI search results use. */
  readonly serialHex: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * A key pair that keeps DER bytes and builds its X509Certificate and
 * KeyObjects on first use, then keeps them. Most emulated devices are never
 * addressed, and with 10,000 devices the objects built up front cost about
 * 65 MiB of RSS (270 MiB against 205 MiB, bench/han-scale.ts, Bun 1.4.4).
 */
class LazyKeyPair implements DeviceKeyPair {
  readonly serialHex: string;
  readonly #privateKeyDer: Uint8Array;
  #certificate: X509Certificate | undefined;
  #privateKey: KeyObject | undefined;
  #publicKey: KeyObject | undefined;

  constructor(
    readonly certificateDer: Uint8Array,
    readonly serial: bigint,
    privateKeyDer: Uint8Array,
  ) {
    this.serialHex = formatSerialHex(serial);
    this.#privateKeyDer = privateKeyDer;
  }

  get certificate(): X509Certificate {
    this.#certificate ??= new X509Certificate(this.certificateDer);
    return this.#certificate;
  }

  get privateKey(): KeyObject {
    this.#privateKey ??= createPrivateKey({ key: Buffer.from(this.#privateKeyDer), format: "der", type: "pkcs8" });
    return this.#privateKey;
  }

  get publicKey(): KeyObject {
    this.#publicKey ??= createPublicKey(this.privateKey);
    return this.#publicKey;
  }

  /** Returns the certificate and PKCS #8 key as PEM text, without building the objects. */
  toPem(): { certificate: string; privateKey: string } {
    return { certificate: pem("CERTIFICATE", this.certificateDer), privateKey: pem("PRIVATE KEY", this.#privateKeyDer) };
  }
}

/** Encodes DER as RFC 7468 PEM: base64 in lines of 64 characters between the labels. */
function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
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
  return lazyKeyPair(certificateDer, certificate, privateKey);
}

/** Keeps the DER of the certificate and key, so `certificate` and `privateKey` can be freed. */
function lazyKeyPair(certificateDer: Uint8Array, certificate: X509Certificate, privateKey: KeyObject): DeviceKeyPair {
  const serial = BigInt(`0x${certificate.serialNumber}`);
  const privateKeyDer = new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" }));
  return new LazyKeyPair(certificateDer, serial, privateKeyDer);
}

/** Serialises both pairs of a device as the JSON text of its state file. */
export function encodeStateFile(eui: Eui, ds: DeviceKeyPair, ka: DeviceKeyPair): string {
  const pair = (keyPair: DeviceKeyPair) =>
    keyPair instanceof LazyKeyPair
      ? keyPair.toPem()
      : { certificate: keyPair.certificate.toString(), privateKey: String(keyPair.privateKey.export({ type: "pkcs8", format: "pem" })) };
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

  // The checks use their own objects, so the returned pair keeps only DER until used.
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  let pair: DeviceKeyPair;
  try {
    certificate = new X509Certificate(stored.certificate);
    privateKey = createPrivateKey(stored.privateKey);
    pair = lazyKeyPair(new Uint8Array(certificate.raw), certificate, privateKey);
  } catch (error) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate or key cannot be parsed (${(error as Error).message})`, { cause: error });
  }

  if (!certificate.checkPrivateKey(privateKey)) {
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

  if (!isTrustedIssuer(certificate, usage)) {
    throw new StoredCredentialsError(path, eui, `the ${usage} certificate is not signed by the access control broker DS key`);
  }
  return pair;
}
