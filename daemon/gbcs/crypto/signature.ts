import { type KeyObject, sign, verify } from "node:crypto";
import {
  type DecodedGeneralSigning,
  type GeneralSigning,
  encodeSignedData,
} from "../apdu/general-signing.ts";
import { GbcsSignatureInvalidError, GbcsUsageError } from "../errors.ts";

/**
 * Signs a General Signing APDU with ECDSA P-256 / SHA-256 over the bytes after `DF` through the end of the
 * content, and returns the APDU with a `40`‖r‖s signature field. A present signature is replaced.
 */
export function signGeneralSigning(apdu: GeneralSigning, dsPrivateKey: KeyObject): GeneralSigning {
  if (dsPrivateKey.type !== "private" || dsPrivateKey.asymmetricKeyType !== "ec") {
    throw new GbcsUsageError("dsPrivateKey", `expected an EC private key, got ${dsPrivateKey.type} ${dsPrivateKey.asymmetricKeyType}`);
  }

  const value = sign("sha256", encodeSignedData(apdu), { key: dsPrivateKey, dsaEncoding: "ieee-p1363" });
  return { ...apdu, signature: { form: "ecdsa", value: new Uint8Array(value) } };
}

/**
 * Verifies the ECDSA signature of a decoded APDU with the DS public key of its originator. Raises
 * {@link GbcsSignatureInvalidError} when the signature field is absent, empty or does not verify.
 */
export function verifyGeneralSigning(decoded: DecodedGeneralSigning, dsPublicKey: KeyObject): void {
  const { apdu, signedData } = decoded;
  if (dsPublicKey.type !== "public" || dsPublicKey.asymmetricKeyType !== "ec") {
    throw new GbcsUsageError("dsPublicKey", `expected an EC public key, got ${dsPublicKey.type} ${dsPublicKey.asymmetricKeyType}`);
  }

  if (apdu.signature.form !== "ecdsa") {
    throw new GbcsSignatureInvalidError(apdu.originator, apdu.originatorCounter, `signature field is ${apdu.signature.form}`);
  }

  const valid = verify("sha256", signedData, { key: dsPublicKey, dsaEncoding: "ieee-p1363" }, apdu.signature.value);
  if (!valid) {
    throw new GbcsSignatureInvalidError(
      apdu.originator,
      apdu.originatorCounter,
      "ECDSA P-256 verification failed: check that the DS key belongs to the originator",
    );
  }
}
