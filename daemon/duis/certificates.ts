import { X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readCertificateFields } from "../../provisioning/devices/certificate.ts";
import { readChildren, readElement, readObjectIdentifier } from "../../provisioning/devices/der.ts";
import type { Eui } from "./eui.ts";

/** OID of x500UniqueIdentifier, which carries the organisation's EUI-64 as a BIT STRING. */
const X500_UNIQUE_IDENTIFIER = "2.5.4.45";
/** OID of organizationalUnitName, which carries the organisation's role code in hex. */
const ORGANIZATIONAL_UNIT = "2.5.4.11";

/** Remote party roles, by the hex OU of a ZAZ1 organisation certificate. */
export const ROLE_BY_OU: Record<string, string> = {
  "01": "Recovery",
  "02": "Supplier",
  "03": "NetworkOperator",
  "04": "AccessControlBroker",
  "05": "TransitionalCoS",
  "06": "WanProvider",
  "07": "IssuingAuthority",
  "08": "LoadController",
  "7F": "Other",
  "87": "XmlSign",
  "89": "DspXmlSign",
};

/** One organisation certificate that can sign DUIS XML. */
export interface SigningCertificate {
  /** File name without `.pem`, e.g. `xml-sign-90B3D51F30010000-ds`. */
  name: string;
  /** Serial in decimal, as `X509SerialNumber` carries it. */
  serial: string;
  eui: Eui;
  /** OU of the subject, two hex digits. */
  ou: string;
  publicKey: KeyObject;
  /** Expiry, kept for information: DCC Boxed clients do not check it. */
  validTo: Date;
}

/**
 * The organisation certificates boxd accepts on DUIS requests, by serial.
 * Like the DCC Boxed validator it looks a signer up by serial only; the
 * gateway then checks that the certificate's EUI is the request originator.
 */
export class CertificateLibrary {
  private readonly bySerial = new Map<string, SigningCertificate>();

  add(certificate: SigningCertificate): void {
    this.bySerial.set(certificate.serial, certificate);
  }

  /** Returns the certificate with this decimal serial, or undefined. */
  bySerialNumber(serial: string): SigningCertificate | undefined {
    return this.bySerial.get(serial);
  }

  get size(): number {
    return this.bySerial.size;
  }

  /** Loads every certificate `*.pem` of a folder (keys, `*.key.pem`, are skipped). */
  static fromFolder(folder: string): CertificateLibrary {
    const library = new CertificateLibrary();
    for (const file of readdirSync(folder).sort()) {
      if (!file.endsWith(".pem") || file.endsWith(".key.pem")) continue;
      library.add(readSigningCertificate(join(folder, file)));
    }
    return library;
  }
}

/** Returns the attributes of a DER X.509 Name by OID, with their value octets (tag and length stripped). */
function nameAttributes(nameDer: Uint8Array): Map<string, Uint8Array> {
  const attributes = new Map<string, Uint8Array>();
  for (const relativeName of readChildren(readElement(nameDer))) {
    for (const pair of readChildren(relativeName)) {
      const [oid, value] = readChildren(pair);
      if (oid && value) attributes.set(readObjectIdentifier(oid), value.content);
    }
  }
  return attributes;
}

/** Reads one PEM certificate and extracts the fields the DUIS checks need. */
export function readSigningCertificate(path: string): SigningCertificate {
  const certificate = new X509Certificate(readFileSync(path));
  const subject = nameAttributes(readCertificateFields(new Uint8Array(certificate.raw)).subjectDer);

  const unique = subject.get(X500_UNIQUE_IDENTIFIER);
  if (!unique || unique.length !== 9) {
    throw new Error(`certificate ${path} has no 64-bit x500UniqueIdentifier in its subject; it cannot sign DUIS`);
  }
  const ou = subject.get(ORGANIZATIONAL_UNIT);

  // A BIT STRING starts with its count of unused bits, 0 here.
  const eui = Buffer.from(unique.subarray(1)).toString("hex").toUpperCase() as Eui;
  const name = path.slice(path.lastIndexOf("/") + 1, -".pem".length);
  return {
    name,
    serial: BigInt(`0x${certificate.serialNumber}`).toString(10),
    eui,
    ou: ou ? new TextDecoder().decode(ou).toUpperCase() : "",
    publicKey: certificate.publicKey,
    validTo: new Date(certificate.validTo),
  };
}
