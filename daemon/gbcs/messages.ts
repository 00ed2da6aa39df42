import type { KeyObject } from "node:crypto";
import { CraFlag, GENERAL_CIPHERING_TAG, GENERAL_SIGNING_TAG } from "./apdu/constants.ts";
import { decodeGeneralCiphering, encodeGeneralCiphering } from "./apdu/general-ciphering.ts";
import {
  type DecodedGeneralSigning,
  decodeGeneralSigning,
  encodeGeneralSigning,
  type GeneralSigning,
  type OtherInformation,
} from "./apdu/general-signing.ts";
import { GbcsDecodeError, GbcsMacMismatchError, GbcsSignatureInvalidError, GbcsUsageError } from "./errors.ts";
import type { Eui64 } from "./eui.ts";
import { deriveKey, type KeyAgreementPair, macKdfParameters } from "./crypto/kdf.ts";
import { computeMac, isMacValid } from "./crypto/mac.ts";
import { signGeneralSigning, verifyGeneralSigning } from "./crypto/signature.ts";

/** A decoded GBCS message: a MAC-wrapped General Signing APDU, or a bare one (pre-commands, signed responses). */
export interface GbcsMessage extends DecodedGeneralSigning {
  /** The 12-byte MAC when the message was MAC-wrapped (tag `DD`), else undefined. */
  mac: Uint8Array | undefined;
}

/** Decodes a GBCS message that starts with `DD` (MAC wrapper) or `DF` (General Signing). No key is checked. */
export function decodeMessage(bytes: Uint8Array): GbcsMessage {
  const tag = bytes[0];

  if (tag === GENERAL_CIPHERING_TAG) {
    const wrapper = decodeGeneralCiphering(bytes);
    return { ...decodeGeneralSigning(wrapper.apdu, wrapper.apduOffset), mac: wrapper.mac };
  }

  if (tag === GENERAL_SIGNING_TAG) return { ...decodeGeneralSigning(bytes), mac: undefined };

  const found = tag === undefined ? "no bytes" : `0x${tag.toString(16).toUpperCase().padStart(2, "0")}`;
  throw new GbcsDecodeError("GBCS message", "tag", 0, `expected 0xDD or 0xDF, got ${found}`);
}

/** Returns whether the MAC of a MAC-wrapped message matches the key pair; false when there is no MAC. */
export function checkMac(message: GbcsMessage, pair: KeyAgreementPair): boolean {
  if (message.mac === undefined) return false;

  const key = deriveKey(pair, macKdfParameters(message.apdu));
  return isMacValid(key, message.apdu.originator, message.encoded, message.mac);
}

/** Raises {@link GbcsMacMismatchError} unless the message carries a MAC that matches the key pair. */
export function verifyMac(message: GbcsMessage, pair: KeyAgreementPair): void {
  if (message.mac === undefined) {
    throw new GbcsDecodeError("GBCS message", "MAC", 0, "missing: the message starts with DF, not a DD MAC wrapper");
  }
  if (checkMac(message, pair)) return;

  const { apdu } = message;
  throw new GbcsMacMismatchError(apdu.originator, apdu.recipient, apdu.originatorCounter);
}

/** The key pair a device uses to check or create MACs with one remote party. */
export interface DeviceMacKeys {
  /** KA private key of the device. */
  deviceKaPrivateKey: KeyObject;
  /** KA public key of the remote party; for commands the access control broker's, as the DCC applies the MAC. */
  remoteKaPublicKey: KeyObject;
}

/**
 * Decodes a MAC-wrapped command received by a device and checks its MAC (GBCS: the command MAC is keyed by
 * the access control broker KA key and the device KA key, mode command). Raises on bad framing, on a CRA
 * flag other than command, and on a MAC mismatch.
 */
export function openCommand(bytes: Uint8Array, keys: DeviceMacKeys): GbcsMessage {
  if (bytes[0] !== GENERAL_CIPHERING_TAG) {
    throw new GbcsDecodeError("GBCS command", "tag", 0, "expected 0xDD, a MAC-wrapped command");
  }

  const message = decodeMessage(bytes);
  if (message.apdu.cra !== CraFlag.command) {
    throw new GbcsDecodeError("GBCS command", "CRA flag", 0, `expected 1 (command), got ${message.apdu.cra}`);
  }

  // GBCS: a device discards a command whose MAC does not verify, before it looks at the content.
  verifyMac(message, { privateKey: keys.deviceKaPrivateKey, publicKey: keys.remoteKaPublicKey });
  return message;
}

/** Fields of a grouping header that a command or an alert starts with. */
export interface HeaderFields {
  originator: Eui64;
  recipient: Eui64;
  /** Originator counter: for commands greater than every earlier one of the originator; for alerts the device's. */
  counter: bigint;
  messageCode: number;
  content: Uint8Array;
  /** DLMS date-time (12 bytes), for example the execution time of a future-dated command. */
  dateTime?: Uint8Array;
  otherInfo?: Omit<OtherInformation, "messageCode">;
}

/**
 * Builds the grouping header of a command: CRA 1 and an empty (`00`) signature field. Without a signature it is
 * also a pre-command as DCC Boxed 1.4.1 and later return it for CV 4. The DCC MAC-wraps a non-critical command
 * with {@link wrapWithMac}, keyed by the access control broker KA private key and the device KA public key.
 */
export function buildCommand(fields: HeaderFields): GeneralSigning {
  return {
    cra: CraFlag.command,
    originatorCounter: fields.counter,
    originator: fields.originator,
    recipient: fields.recipient,
    dateTime: fields.dateTime,
    otherInfo: { ...fields.otherInfo, messageCode: fields.messageCode },
    content: fields.content,
    signature: { form: "empty" },
  };
}

/** Fields of a response that the command does not determine. */
export interface ResponseFields {
  content: Uint8Array;
  /** Message code of the response; defaults to the command's. */
  messageCode?: number;
  /** DLMS date-time (12 bytes), for example when the response carries a reading time. */
  dateTime?: Uint8Array;
  supplementaryRemotePartyId?: Eui64;
  supplementaryRemotePartyCounter?: bigint;
  supplementaryOriginatorCounter?: bigint;
  kaCertificate?: Uint8Array;
}

/**
 * Builds the grouping header of a device's response: CRA 2, the command's originator counter, originator and
 * recipient swapped, and an empty (`00`) signature field. Sign it with {@link signGeneralSigning} when the
 * use case needs a device signature, then MAC-wrap it with {@link wrapWithMac} unless GBCS sends it bare.
 */
export function buildResponse(command: GeneralSigning, fields: ResponseFields): GeneralSigning {
  const otherInfo: OtherInformation = { messageCode: fields.messageCode ?? command.otherInfo.messageCode };
  if (fields.supplementaryRemotePartyId !== undefined) {
    otherInfo.supplementaryRemotePartyId = fields.supplementaryRemotePartyId;
  }
  if (fields.supplementaryRemotePartyCounter !== undefined) {
    otherInfo.supplementaryRemotePartyCounter = fields.supplementaryRemotePartyCounter;
  }
  if (fields.supplementaryOriginatorCounter !== undefined) {
    otherInfo.supplementaryOriginatorCounter = fields.supplementaryOriginatorCounter;
  }
  if (fields.kaCertificate !== undefined) otherInfo.kaCertificate = fields.kaCertificate;

  return {
    cra: CraFlag.response,
    originatorCounter: command.originatorCounter,
    originator: command.recipient,
    recipient: command.originator,
    dateTime: fields.dateTime,
    otherInfo,
    content: fields.content,
    signature: { form: "empty" },
  };
}

/** The key pair of the originator of a message it MAC-wraps. */
export interface SenderMacKeys {
  /** KA private key of the sender (the device for responses and alerts, the access control broker for commands). */
  senderKaPrivateKey: KeyObject;
  /** KA public key of the other end of the MAC (the recipient of a response, the device for a command). */
  peerKaPublicKey: KeyObject;
}

/**
 * Encodes `apdu` and wraps it in a General Ciphering APDU with its GBCS MAC. The KDF uses the APDU's
 * originator, recipient and counter, mode by CRA flag (command 1, response 2, alert 3).
 */
export function wrapWithMac(apdu: GeneralSigning | Uint8Array, keys: SenderMacKeys): Uint8Array {
  const encoded = apdu instanceof Uint8Array ? apdu : encodeGeneralSigning(apdu);
  const header = apdu instanceof Uint8Array ? decodeGeneralSigning(apdu).apdu : apdu;

  const pair = { privateKey: keys.senderKaPrivateKey, publicKey: keys.peerKaPublicKey };
  const key = deriveKey(pair, macKdfParameters(header));
  return encodeGeneralCiphering({ apdu: encoded, mac: computeMac(key, header.originator, encoded) });
}

/**
 * Decodes a SignedPreCommand (a `DF` command with a `40`‖r‖s signature) and verifies it with the DS public key
 * of its originator (DUIS CV 5: the DCC checks the user's signature before it builds the command).
 */
export function verifyPreCommandSignature(signedPreCommand: Uint8Array, dsPublicKey: KeyObject): GbcsMessage {
  const message = decodePreCommand(signedPreCommand);
  verifyGeneralSigning(message, dsPublicKey);
  return message;
}

/**
 * Signs a pre-command as a DUIS user does for CV 5: a trailing `00` is dropped, ECDSA P-256 over the bytes after
 * `DF` through the content, `40`‖r‖s appended. Raises when the pre-command is already signed.
 */
export function signPreCommand(preCommand: Uint8Array, dsPrivateKey: KeyObject): Uint8Array {
  const message = decodePreCommand(preCommand);
  if (message.apdu.signature.form === "ecdsa") {
    throw new GbcsUsageError("preCommand", "is already signed; pass the unsigned pre-command");
  }
  return encodeGeneralSigning(signGeneralSigning(message.apdu, dsPrivateKey));
}

/**
 * Builds the Command from a SignedPreCommand as the DCC does:
 * `DD 000000000000 | len | 11 00000000 | pre-command‖40‖signature | MAC`, the pre-command bytes copied
 * unchanged and the MAC keyed by the access control broker KA private key and the device KA public key.
 */
export function buildCommandFromSignedPreCommand(
  signedPreCommand: Uint8Array,
  keys: { acbKaPrivateKey: KeyObject; deviceKaPublicKey: KeyObject },
): Uint8Array {
  const message = decodePreCommand(signedPreCommand);
  if (message.apdu.signature.form !== "ecdsa") {
    throw new GbcsSignatureInvalidError(
      message.apdu.originator,
      message.apdu.originatorCounter,
      `a SignedPreCommand needs a 64-byte signature, the signature field is ${message.apdu.signature.form}`,
    );
  }

  return wrapWithMac(signedPreCommand, {
    senderKaPrivateKey: keys.acbKaPrivateKey,
    peerKaPublicKey: keys.deviceKaPublicKey,
  });
}

function decodePreCommand(bytes: Uint8Array): GbcsMessage {
  if (bytes[0] !== GENERAL_SIGNING_TAG) {
    throw new GbcsDecodeError("pre-command", "tag", 0, "expected 0xDF, a General Signing APDU without MAC");
  }

  const message = decodeMessage(bytes);
  if (message.apdu.cra !== CraFlag.command) {
    throw new GbcsDecodeError("pre-command", "CRA flag", 2, `expected 1 (command), got ${message.apdu.cra}`);
  }
  return message;
}
