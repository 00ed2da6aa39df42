import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { readCertificateFields, type CertificateIssuer, type KeyUsageName } from "./certificate.ts";
import { ISSUER_KEYSTORE_NAME, RTDS_ESME_EUI } from "./consts.ts";
import { DerDecodeError } from "./der.ts";
import { TrustMaterialError } from "./errors.ts";
import { parseEui, type Eui } from "./eui.ts";

/** The bundled trust folder, `provisioning/trust` of the source tree. */
export const DEFAULT_TRUST_DIR = fileURLToPath(new URL("../trust", import.meta.url));

/** An organisation certificate from keystore.json, as the SMKI repository serves it. */
export interface OrganisationCertificate {
  eui: Eui;
  usage: KeyUsageName;
  /** SMKI remote party role, for example 4 for the access control broker. */
  role: number;
  /** File name the certificate came from, for example `Z1-supplier-ds`. */
  name?: string;
  serial: bigint;
  certificateDer: Uint8Array;
}

/** A certificate (DER) and its private key. */
export interface TrustedKeyPair {
  certificateDer: Uint8Array;
  privateKey: KeyObject;
}

export interface TrustMaterial {
  /** The ZAZ1 access control broker DS certificate and key, which issue every minted device certificate. */
  issuer: CertificateIssuer & { certificate: X509Certificate };
  organisations: OrganisationCertificate[];
  /** The key-agreement pair of the RTDS ESME, kept so that RTDS vectors reproduce byte for byte. */
  rtdsEsmeKeyAgreement: TrustedKeyPair;
}

/** One entry of keystore.json: `{eui: {digitalSignature|keyAgreement: {decimalSerial: entry}}}`. */
interface KeystoreEntry {
  certificate?: unknown;
  privateKey?: unknown;
  role?: unknown;
  name?: unknown;
}

const KEYSTORE_USAGES: KeyUsageName[] = ["digitalSignature", "keyAgreement"];

/**
 * Reads the bundled trust folder: `zaz1/keystore.json` (organisation GBCS
 * certificates and keys) and the RTDS ESME key-agreement pair in `rtds/`.
 * Raises TrustMaterialError naming the file and the defect.
 */
export function loadTrustMaterial(trustDir: string = DEFAULT_TRUST_DIR): TrustMaterial {
  const keystorePath = join(trustDir, "zaz1", "keystore.json");
  const keystore = parseKeystore(keystorePath, readText(keystorePath));

  const organisations: OrganisationCertificate[] = [];
  let issuer: TrustMaterial["issuer"] | undefined;
  for (const { eui, usage, serialText, entry } of keystore) {
    const where = `${eui}/${usage}/${serialText}`;
    const certificate = parseCertificate(keystorePath, entry.certificate, where);
    const role = entry.role;
    if (typeof role !== "number" || !Number.isInteger(role)) {
      throw new TrustMaterialError(keystorePath, `entry ${where} has no integer role`);
    }
    if (BigInt(`0x${certificate.serialNumber}`) !== BigInt(serialText)) {
      throw new TrustMaterialError(keystorePath, `entry ${where} contains a certificate with serial 0x${certificate.serialNumber}, which differs from the entry key`);
    }

    const name = typeof entry.name === "string" ? entry.name : undefined;
    organisations.push({
      eui,
      usage,
      role,
      ...(name === undefined ? {} : { name }),
      serial: BigInt(serialText),
      certificateDer: new Uint8Array(certificate.raw),
    });

    if (name === ISSUER_KEYSTORE_NAME) {
      issuer = readIssuer(keystorePath, where, certificate, entry.privateKey);
    }
  }
  if (issuer === undefined) {
    throw new TrustMaterialError(keystorePath, `the entry named ${ISSUER_KEYSTORE_NAME} is missing`);
  }

  return {
    issuer,
    organisations,
    rtdsEsmeKeyAgreement: loadRtdsKeyAgreement(join(trustDir, "rtds")),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new TrustMaterialError(path, `the file cannot be read (${(error as Error).message})`, { cause: error });
  }
}

function parseKeystore(path: string, text: string): { eui: Eui; usage: KeyUsageName; serialText: string; entry: KeystoreEntry }[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new TrustMaterialError(path, `it is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isRecord(document)) {
    throw new TrustMaterialError(path, "the top level is not an object keyed by EUI");
  }

  const entries = [];
  for (const [euiText, usages] of Object.entries(document)) {
    const eui = parseEui(euiText);
    if (eui === undefined || !isRecord(usages)) {
      throw new TrustMaterialError(path, `key ${JSON.stringify(euiText)} is not a 16-hex-digit EUI with an object value`);
    }
    for (const usage of KEYSTORE_USAGES) {
      const bySerial = usages[usage];
      if (bySerial === undefined) {
        continue;
      }
      if (!isRecord(bySerial)) {
        throw new TrustMaterialError(path, `${euiText}/${usage} is not an object keyed by decimal serial`);
      }
      for (const [serialText, entry] of Object.entries(bySerial)) {
        if (!/^\d+$/.test(serialText) || !isRecord(entry)) {
          throw new TrustMaterialError(path, `${euiText}/${usage}/${serialText} is not a decimal serial with an object value`);
        }
        entries.push({ eui, usage, serialText, entry: entry as KeystoreEntry });
      }
    }
  }
  return entries;
}

function parseCertificate(path: string, pem: unknown, where: string): X509Certificate {
  if (typeof pem !== "string") {
    throw new TrustMaterialError(path, `entry ${where} has no PEM certificate`);
  }

  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new TrustMaterialError(path, `the certificate of ${where} cannot be parsed (${(error as Error).message})`, { cause: error });
  }
}

function parsePrivateKey(path: string, pem: unknown, where: string): KeyObject {
  if (typeof pem !== "string") {
    throw new TrustMaterialError(path, `entry ${where} has no PEM private key`);
  }

  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TrustMaterialError(path, `the private key of ${where} cannot be parsed (${(error as Error).message})`, { cause: error });
  }
}

function readIssuer(path: string, where: string, certificate: X509Certificate, privateKeyPem: unknown): TrustMaterial["issuer"] {
  const privateKey = parsePrivateKey(path, privateKeyPem, where);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TrustMaterialError(path, `the private key of ${where} does not match its certificate`);
  }

  let fields;
  try {
    fields = readCertificateFields(new Uint8Array(certificate.raw));
  } catch (error) {
    if (error instanceof DerDecodeError) {
      throw new TrustMaterialError(path, `the certificate of ${where} is not DER (${error.message})`, { cause: error });
    }
    throw error;
  }
  if (fields.subjectKeyIdentifier === undefined) {
    throw new TrustMaterialError(path, `the certificate of ${where} has no subjectKeyIdentifier to put into device certificates`);
  }

  return {
    certificate,
    subjectDer: fields.subjectDer,
    keyIdentifier: fields.subjectKeyIdentifier,
    privateKey,
  };
}

function loadRtdsKeyAgreement(folder: string): TrustedKeyPair {
  const certificatePath = join(folder, `${RTDS_ESME_EUI}-ka.pem`);
  const keyPath = join(folder, `${RTDS_ESME_EUI}-ka.key`);
  const certificate = parseCertificate(certificatePath, readText(certificatePath), "the RTDS ESME KA certificate");
  const privateKey = parsePrivateKey(keyPath, readText(keyPath), "the RTDS ESME KA key");

  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TrustMaterialError(keyPath, `the key does not match the certificate ${certificatePath}`);
  }
  return { certificateDer: new Uint8Array(certificate.raw), privateKey };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
