import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { GbcsUsageError } from "../errors.ts";

/** Loads a private key from PEM (PKCS#8 or SEC 1) or from PKCS#8 DER bytes. */
export function loadPrivateKey(input: string | Uint8Array): KeyObject {
  try {
    if (typeof input === "string" || looksLikePem(input)) {
      return createPrivateKey({ key: asText(input), format: "pem" });
    }
    return createPrivateKey({ key: Buffer.from(input), format: "der", type: "pkcs8" });
  } catch (error) {
    throw new GbcsUsageError("private key", `not a PEM or PKCS#8 DER private key (${(error as Error).message})`);
  }
}

/**
 * Loads a public key from a PEM public key, a PEM certificate or a DER certificate. For a certificate, the
 * key is taken from its subject public key info; the certificate chain is not checked here.
 */
export function loadPublicKey(input: string | Uint8Array): KeyObject {
  const text = typeof input === "string" || looksLikePem(input) ? asText(input) : undefined;
  if (text !== undefined && !text.includes("-----BEGIN CERTIFICATE-----")) {
    try {
      return createPublicKey({ key: text, format: "pem" });
    } catch (error) {
      throw new GbcsUsageError("public key", `not a PEM public key (${(error as Error).message})`);
    }
  }

  return publicKeyFromCertificate(text ?? (input as Uint8Array));
}

/** Returns the subject public key of an X.509 certificate in PEM or DER. */
export function publicKeyFromCertificate(certificate: string | Uint8Array): KeyObject {
  try {
    const data = typeof certificate === "string" ? certificate : Buffer.from(certificate);
    return new X509Certificate(data).publicKey;
  } catch (error) {
    throw new GbcsUsageError("certificate", `not a PEM or DER X.509 certificate (${(error as Error).message})`);
  }
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString("latin1").includes("-----BEGIN");
}

function asText(input: string | Uint8Array): string {
  return typeof input === "string" ? input : Buffer.from(input).toString("utf8");
}
