import { createHash, diffieHellman, type KeyObject } from "node:crypto";
import { concatBytes, encodeUint64 } from "../bytes.ts";
import { CraFlag } from "../apdu/constants.ts";
import type { GeneralSigning } from "../apdu/general-signing.ts";
import { GbcsUsageError } from "../errors.ts";
import { type Eui64, euiBytes } from "../eui.ts";

/** KDF transaction-type byte: which kind of message the derived key protects. */
export const KdfMode = {
  command: 1,
  response: 2,
  alert: 3,
  /** Encryption of protected payloads, for example ECS17b register values. */
  encryption: 4,
} as const;
export type KdfMode = (typeof KdfMode)[keyof typeof KdfMode];

/** AlgorithmID of the GBCS other-info: DER OID 2.16.840.1.114565.8.3 without tag and length, then 00. */
const ALGORITHM_ID = Uint8Array.of(0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00);

/** Bytes of a derived AES-128 key. */
export const DERIVED_KEY_LENGTH = 16;

/** Big-endian counter `00000001` of the single-step concatenation KDF (NIST SP 800-56A 5.8.1). */
const KDF_ROUND = Uint8Array.of(0, 0, 0, 1);

/** The public inputs of one key derivation. The ECDH pair is passed separately. */
export interface KdfParameters {
  originator: Eui64;
  recipient: Eui64;
  counter: bigint;
  mode: KdfMode;
}

/** One party's private key agreement key and the other party's public one; both EC P-256. */
export interface KeyAgreementPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Derives an AES-128 key as GBCS section 4 requires: Z = ECDH(P-256) shared X coordinate, then the first
 * 16 bytes of SHA-256(00000001 ‖ Z ‖ other-info), where the 33-byte other-info is
 * AlgorithmID(7) ‖ originator(8) ‖ 09 ‖ mode(1) ‖ counter(8) ‖ recipient(8).
 */
export function deriveKey(pair: KeyAgreementPair, parameters: KdfParameters): Uint8Array {
  checkP256(pair.privateKey, "private", "privateKey");
  checkP256(pair.publicKey, "public", "publicKey");

  const sharedSecret = diffieHellman({ privateKey: pair.privateKey, publicKey: pair.publicKey });

  const otherInfo = concatBytes(
    ALGORITHM_ID,
    euiBytes(parameters.originator),
    Uint8Array.of(0x09, parameters.mode),
    encodeUint64(parameters.counter, "counter"),
    euiBytes(parameters.recipient),
  );

  const digest = createHash("sha256").update(KDF_ROUND).update(sharedSecret).update(otherInfo).digest();
  return new Uint8Array(digest.subarray(0, DERIVED_KEY_LENGTH));
}

/** Returns the KDF mode of the MAC over a message with this CRA flag. */
export function macModeFor(cra: CraFlag): KdfMode {
  switch (cra) {
    case CraFlag.command:
      return KdfMode.command;
    case CraFlag.response:
      return KdfMode.response;
    case CraFlag.alert:
      return KdfMode.alert;
  }
}

/** KDF inputs of the MAC over `apdu`: its originator, recipient and originator counter, mode by CRA flag. */
export function macKdfParameters(apdu: GeneralSigning): KdfParameters {
  return {
    originator: apdu.originator,
    recipient: apdu.recipient,
    counter: apdu.originatorCounter,
    mode: macModeFor(apdu.cra),
  };
}

/**
 * Returns the KDF inputs of an encrypted payload inside `apdu`. GBCS takes the supplementary originator counter
 * when present, else the originator counter. It takes the supplementary remote party ID as recipient when
 * present, else the recipient system title.
 */
export function encryptionKdfParameters(apdu: GeneralSigning): KdfParameters {
  const info = apdu.otherInfo;
  return {
    originator: apdu.originator,
    recipient: info.supplementaryRemotePartyId ?? apdu.recipient,
    counter: info.supplementaryOriginatorCounter ?? apdu.originatorCounter,
    mode: KdfMode.encryption,
  };
}

function checkP256(key: KeyObject, type: "private" | "public", argument: string): void {
  if (key.type !== type) {
    throw new GbcsUsageError(argument, `expected a ${type} key, got a ${key.type} key`);
  }

  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || (curve !== "prime256v1" && curve !== "P-256")) {
    throw new GbcsUsageError(argument, `expected an EC P-256 key, got ${key.asymmetricKeyType} ${curve ?? ""}`.trim());
  }
}
