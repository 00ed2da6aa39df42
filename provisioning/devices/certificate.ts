import { createHash, sign, type KeyObject } from "node:crypto";

import {
  DEVICE_CERTIFICATE_NOT_AFTER,
  DEVICE_CERTIFICATE_POLICY,
  DEVICE_HW_TYPE,
  KEY_USAGE_DIGITAL_SIGNATURE_BIT,
  KEY_USAGE_KEY_AGREEMENT_BIT,
  OID_AUTHORITY_KEY_IDENTIFIER,
  OID_CERTIFICATE_POLICIES,
  OID_ECDSA_WITH_SHA256,
  OID_HARDWARE_MODULE_NAME,
  OID_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_IDENTIFIER,
} from "./consts.ts";
import {
  Tag,
  bitStringOfBytes,
  booleanTrue,
  constructed,
  contextTag,
  namedBitString,
  objectIdentifier,
  octetString,
  readChildren,
  readElement,
  readObjectIdentifier,
  sequence,
  time,
  tlv,
  unsignedInteger,
  DerDecodeError,
  type DerElement,
} from "./der.ts";
import { euiToBytes, parseEui, type Eui } from "./eui.ts";

/** The two kinds of device key pair: GBCS DS (signing) and KA (ECDH key agreement). */
export type KeyUsageName = "digitalSignature" | "keyAgreement";

const KEY_USAGE_BITS: Record<KeyUsageName, number> = {
  digitalSignature: KEY_USAGE_DIGITAL_SIGNATURE_BIT,
  keyAgreement: KEY_USAGE_KEY_AGREEMENT_BIT,
};

/** Issuer fields that a device certificate copies, and the issuer key that signs it. */
export interface CertificateIssuer {
  /** The issuer certificate's subject Name, DER, copied verbatim into the device certificate's issuer. */
  subjectDer: Uint8Array;
  /** The issuer certificate's subjectKeyIdentifier, copied into authorityKeyIdentifier. */
  keyIdentifier: Uint8Array;
  privateKey: KeyObject;
}

export interface DeviceCertificateRequest {
  eui: Eui;
  usage: KeyUsageName;
  publicKey: KeyObject;
  serial: bigint;
  notBefore: Date;
  issuer: CertificateIssuer;
}

/**
 * Builds and signs a device certificate in the layout of DCC Boxed and the
 * RTDS device certificates: v3, ecdsa-with-SHA256, empty subject, validity to
 * 9999-12-31, and the extensions keyUsage (critical), subjectKeyIdentifier,
 * subjectAltName (critical, hardwareModuleName = EUI), certificatePolicies
 * (critical) and authorityKeyIdentifier, in that order. Returns the DER.
 */
export function buildDeviceCertificate(request: DeviceCertificateRequest): Uint8Array {
  const signatureAlgorithm = sequence([objectIdentifier(OID_ECDSA_WITH_SHA256)]);
  const subjectPublicKeyInfo = new Uint8Array(request.publicKey.export({ type: "spki", format: "der" }));

  const tbsCertificate = sequence([
    constructed(contextTag(0, true), [unsignedInteger(2n)]),
    unsignedInteger(request.serial),
    signatureAlgorithm,
    request.issuer.subjectDer,
    sequence([time(request.notBefore), time(DEVICE_CERTIFICATE_NOT_AFTER)]),
    sequence([]),
    subjectPublicKeyInfo,
    constructed(contextTag(3, true), [buildExtensions(request, subjectPublicKeyInfo)]),
  ]);

  const signature = sign("sha256", tbsCertificate, { key: request.issuer.privateKey, dsaEncoding: "der" });
  return sequence([tbsCertificate, signatureAlgorithm, bitStringOfBytes(new Uint8Array(signature))]);
}

function buildExtensions(request: DeviceCertificateRequest, subjectPublicKeyInfo: Uint8Array): Uint8Array {
  const keyUsage = namedBitString(KEY_USAGE_BITS[request.usage]);
  const subjectKeyIdentifier = octetString(keyIdentifierOf(subjectPublicKeyInfo));

  // RFC 4108 5: otherName [0] { id-on-hardwareModuleName, [0] EXPLICIT
  // HardwareModuleName { hwType OID, hwSerialNum OCTET STRING } }.
  const hardwareModuleName = constructed(contextTag(0, true), [
    objectIdentifier(OID_HARDWARE_MODULE_NAME),
    constructed(contextTag(0, true), [
      sequence([objectIdentifier(DEVICE_HW_TYPE), octetString(euiToBytes(request.eui))]),
    ]),
  ]);
  const subjectAltName = sequence([hardwareModuleName]);

  const certificatePolicies = sequence([sequence([objectIdentifier(DEVICE_CERTIFICATE_POLICY)])]);
  const authorityKeyIdentifier = sequence([tlv(contextTag(0, false), request.issuer.keyIdentifier)]);

  return sequence([
    extension(OID_KEY_USAGE, true, keyUsage),
    extension(OID_SUBJECT_KEY_IDENTIFIER, false, subjectKeyIdentifier),
    extension(OID_SUBJECT_ALT_NAME, true, subjectAltName),
    extension(OID_CERTIFICATE_POLICIES, true, certificatePolicies),
    extension(OID_AUTHORITY_KEY_IDENTIFIER, false, authorityKeyIdentifier),
  ]);
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  const parts = [objectIdentifier(oid)];
  if (critical) {
    parts.push(booleanTrue());
  }
  parts.push(octetString(value));
  return sequence(parts);
}

/**
 * Computes a subjectKeyIdentifier by RFC 5280 4.2.1.2 method (2): the 4-bit
 * type 0100 followed by the low 60 bits of the SHA-1 of the subjectPublicKey
 * bits. The ZAZ1 and RTDS certificates use this method.
 */
export function keyIdentifierOf(subjectPublicKeyInfo: Uint8Array): Uint8Array {
  const [, subjectPublicKey] = readChildren(readElement(subjectPublicKeyInfo));
  if (subjectPublicKey?.tag !== Tag.bitString) {
    throw new DerDecodeError(0, "the SubjectPublicKeyInfo has no subjectPublicKey BIT STRING");
  }

  const digest = createHash("sha1").update(subjectPublicKey.content.subarray(1)).digest();
  const identifier = new Uint8Array(digest.subarray(digest.length - 8));
  identifier[0] = 0x40 | ((identifier[0] ?? 0) & 0x0f);
  return identifier;
}

/** The fields of a certificate that the device profile and its checks need. */
export interface CertificateFields {
  serial: bigint;
  /** DER of the issuer Name. */
  issuerDer: Uint8Array;
  /** DER of the subject Name. */
  subjectDer: Uint8Array;
  signatureAlgorithm: string;
  /** keyUsage bit numbers that are set; empty when the extension is absent. */
  keyUsageBits: number[];
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: Uint8Array;
  /** The hwSerialNum of the hardwareModuleName subjectAltName, when it is an 8-octet EUI. */
  hardwareModuleEui?: Eui;
}

/** Reads the fields of a DER certificate. Raises DerDecodeError when the structure is not an X.509 certificate. */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const [tbs] = readChildren(readElement(der));
  if (tbs?.tag !== Tag.sequence) {
    throw new DerDecodeError(0, "the certificate has no tbsCertificate SEQUENCE");
  }

  // tbsCertificate (RFC 5280 4.1): [0] version, serialNumber, signature,
  // issuer, validity, subject, subjectPublicKeyInfo, then optional [1], [2], [3].
  const children = readChildren(tbs);
  const fields = children[0]?.tag === contextTag(0, true) ? children.slice(1) : children;
  const [serial, signature, issuer, , subject] = fields;
  if (serial?.tag !== Tag.integer || signature === undefined || issuer === undefined || subject === undefined) {
    throw new DerDecodeError(0, "the tbsCertificate is missing serialNumber, signature, issuer or subject");
  }
  const [algorithm] = readChildren(signature);
  if (algorithm === undefined) {
    throw new DerDecodeError(0, "the signature AlgorithmIdentifier is empty");
  }

  const result: CertificateFields = {
    serial: BigInt(`0x${Buffer.from(serial.content).toString("hex") || "0"}`),
    issuerDer: issuer.encoded,
    subjectDer: subject.encoded,
    signatureAlgorithm: readObjectIdentifier(algorithm),
    keyUsageBits: [],
  };

  const extensions = children.find((child) => child.tag === contextTag(3, true));
  for (const [oid, value] of extensions ? readExtensions(extensions) : []) {
    readExtensionInto(result, oid, value);
  }
  return result;
}

function readExtensions(wrapper: DerElement): [string, DerElement][] {
  const [list] = readChildren(wrapper);
  if (list === undefined) {
    return [];
  }

  return readChildren(list).map((entry) => {
    const parts = readChildren(entry);
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid === undefined || value?.tag !== Tag.octetString) {
      throw new DerDecodeError(0, "an Extension lacks extnID or extnValue");
    }
    return [readObjectIdentifier(oid), readElement(value.content)];
  });
}

function readExtensionInto(result: CertificateFields, oid: string, value: DerElement): void {
  if (oid === OID_KEY_USAGE && value.tag === Tag.bitString) {
    const unusedBits = value.content[0] ?? 0;
    const octets = value.content.subarray(1);
    const bitCount = octets.length * 8 - unusedBits;
    for (let bit = 0; bit < bitCount; bit++) {
      if (((octets[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
        result.keyUsageBits.push(bit);
      }
    }
    return;
  }

  if (oid === OID_SUBJECT_KEY_IDENTIFIER && value.tag === Tag.octetString) {
    result.subjectKeyIdentifier = value.content;
    return;
  }

  if (oid === OID_AUTHORITY_KEY_IDENTIFIER && value.tag === Tag.sequence) {
    const keyIdentifier = readChildren(value).find((child) => child.tag === contextTag(0, false));
    if (keyIdentifier !== undefined) {
      result.authorityKeyIdentifier = keyIdentifier.content;
    }
    return;
  }

  if (oid === OID_SUBJECT_ALT_NAME && value.tag === Tag.sequence) {
    const eui = readHardwareModuleEui(value);
    if (eui !== undefined) {
      result.hardwareModuleEui = eui;
    }
  }
}

function readHardwareModuleEui(generalNames: DerElement): Eui | undefined {
  for (const name of readChildren(generalNames)) {
    if (name.tag !== contextTag(0, true)) {
      continue;
    }
    const [typeId, explicitValue] = readChildren(name);
    if (typeId === undefined || explicitValue === undefined || readObjectIdentifier(typeId) !== OID_HARDWARE_MODULE_NAME) {
      continue;
    }

    const [hardwareModuleName] = readChildren(explicitValue);
    const [, serialNumber] = hardwareModuleName ? readChildren(hardwareModuleName) : [];
    if (serialNumber?.tag === Tag.octetString && serialNumber.content.length === 8) {
      return parseEui(Buffer.from(serialNumber.content).toString("hex"));
    }
  }
  return undefined;
}
