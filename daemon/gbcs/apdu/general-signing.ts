import {
  ByteReader,
  concatBytes,
  encodeUint16,
  encodeUint64,
  lengthPrefixed,
} from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import { type Eui64, euiBytes, parseEui64 } from "../eui.ts";
import {
  CraFlag,
  DATE_TIME_LENGTH,
  GENERAL_SIGNING_TAG,
  OTHER_INFO_LENGTHS,
  SIGNATURE_LENGTH,
  SYSTEM_TITLE_LENGTH,
  TRANSACTION_ID_LENGTH,
} from "./constants.ts";

/**
 * The General Signing APDU (grouping header) that starts every GBCS message:
 *
 * `DF | 09 CRA counter(8) | 08 originator(8) | 08 recipient(8) | date-time | other-info | content | signature`
 *
 * where date-time is `00` or `0C` and 12 bytes, other-info and content carry BER lengths, and the signature
 * field is absent, `00`, or `40` and 64 bytes.
 */
export interface GeneralSigning {
  cra: CraFlag;
  /** Originator counter, the transaction id; a response echoes the counter of its command. */
  originatorCounter: bigint;
  originator: Eui64;
  recipient: Eui64;
  /** DLMS date-time (12 bytes) of a future-dated or time-stamped message, or undefined. */
  dateTime: Uint8Array | undefined;
  otherInfo: OtherInformation;
  content: Uint8Array;
  signature: SignatureField;
}

/** Other-information: the message code and the optional supplementary fields, in this order. */
export interface OtherInformation {
  messageCode: number;
  supplementaryRemotePartyId?: Eui64;
  supplementaryRemotePartyCounter?: bigint;
  /** Present only after the two fields above, and only when there is no KA certificate. */
  supplementaryOriginatorCounter?: bigint;
  /** DER X.509 key agreement certificate, present only after the remote party ID and its counter. */
  kaCertificate?: Uint8Array;
}

/**
 * The signature field: absent (RTDS pre-commands end with the content), `00` (no signature), or `40` and a raw
 * r‖s ECDSA P-256 signature.
 */
export type SignatureField =
  | { form: "absent" }
  | { form: "empty" }
  | { form: "ecdsa"; value: Uint8Array };

/**
 * A decoded General Signing APDU with the exact bytes it was read from. Byte fields (content, date-time,
 * certificate) are views into the input, so a caller that reuses the input buffer must copy them first.
 */
export interface DecodedGeneralSigning {
  apdu: GeneralSigning;
  /** The whole APDU from `DF` through the signature field, the input of the MAC. */
  encoded: Uint8Array;
  /** The bytes after `DF` through the end of the content, the input of the ECDSA signature. */
  signedData: Uint8Array;
  /** Offset of the content from the start of the whole message, for error offsets inside the payload. */
  contentOffset: number;
}

const STRUCTURE = "General Signing APDU";

/** Decodes a General Signing APDU that fills `bytes` exactly. */
export function decodeGeneralSigning(bytes: Uint8Array, base = 0): DecodedGeneralSigning {
  const reader: ByteReader = new ByteReader(bytes, STRUCTURE, base);

  const tag = reader.u8("tag");
  if (tag !== GENERAL_SIGNING_TAG) {
    reader.fail("tag", `expected 0xDF, got 0x${hex2(tag)}`);
  }

  // GBCS grouping header: the transaction-id is the CRA flag and the 8-byte originator counter.
  const transactionIdLength = reader.u8("transaction-id length");
  if (transactionIdLength !== TRANSACTION_ID_LENGTH) {
    reader.fail("transaction-id length", `expected 9 (CRA flag and counter), got ${transactionIdLength}`);
  }

  const cra = reader.u8("CRA flag");
  if (!isCraFlag(cra)) {
    reader.fail("CRA flag", `expected 1 (command), 2 (response) or 3 (alert), got ${cra}`);
  }
  const originatorCounter = reader.u64("originator counter");

  // GBCS system titles are EUI-64s, always 8 bytes.
  const originator = readSystemTitle(reader, "originator system title");
  const recipient = readSystemTitle(reader, "recipient system title");

  const dateTime = readDateTime(reader);

  const otherInfoBytes = reader.lengthPrefixed("other-information");
  const otherInfo = decodeOtherInformation(otherInfoBytes, reader.absoluteOffset - otherInfoBytes.length);

  const content = reader.lengthPrefixed("content");
  const contentOffset = reader.absoluteOffset - content.length;
  const signedEnd = reader.offset;

  // GBCS: the signature field is absent only on pre-commands (RTDS), else `00` or `40` and 64 bytes.
  const signature = readSignatureField(reader);
  reader.end();

  return {
    apdu: { cra, originatorCounter, originator, recipient, dateTime, otherInfo, content, signature },
    encoded: bytes,
    signedData: bytes.subarray(1, signedEnd),
    contentOffset,
  };
}

/** Encodes a General Signing APDU; lengths are written in their shortest BER form. */
export function encodeGeneralSigning(apdu: GeneralSigning): Uint8Array {
  return concatBytes(
    Uint8Array.of(GENERAL_SIGNING_TAG),
    encodeSignedData(apdu),
    encodeSignatureField(apdu.signature),
  );
}

/** Encodes the bytes an ECDSA signature covers: after `DF` through the end of the content. */
export function encodeSignedData(apdu: GeneralSigning): Uint8Array {
  if (apdu.dateTime !== undefined && apdu.dateTime.length !== DATE_TIME_LENGTH) {
    throw new GbcsUsageError("dateTime", `expected 12 bytes, got ${apdu.dateTime.length}`);
  }

  return concatBytes(
    Uint8Array.of(TRANSACTION_ID_LENGTH, apdu.cra),
    encodeUint64(apdu.originatorCounter, "originatorCounter"),
    Uint8Array.of(SYSTEM_TITLE_LENGTH),
    euiBytes(apdu.originator),
    Uint8Array.of(SYSTEM_TITLE_LENGTH),
    euiBytes(apdu.recipient),
    apdu.dateTime === undefined ? Uint8Array.of(0) : concatBytes(Uint8Array.of(DATE_TIME_LENGTH), apdu.dateTime),
    lengthPrefixed(encodeOtherInformation(apdu.otherInfo)),
    lengthPrefixed(apdu.content),
  );
}

export function encodeSignatureField(signature: SignatureField): Uint8Array {
  switch (signature.form) {
    case "absent":
      return new Uint8Array(0);
    case "empty":
      return Uint8Array.of(0);
    case "ecdsa":
      if (signature.value.length !== SIGNATURE_LENGTH) {
        throw new GbcsUsageError("signature", `expected 64 bytes (r‖s), got ${signature.value.length}`);
      }
      return concatBytes(Uint8Array.of(SIGNATURE_LENGTH), signature.value);
  }
}

/**
 * Decodes other-information by its length. Length 2 is the message code alone, 10 adds the supplementary
 * remote party ID, 18 adds its counter and 26 adds the supplementary originator counter. Above 26, a KA
 * certificate follows the first 18 bytes.
 */
export function decodeOtherInformation(bytes: Uint8Array, base = 0): OtherInformation {
  const reader: ByteReader = new ByteReader(bytes, "other-information", base);
  const length = bytes.length;

  const allowed = Object.values(OTHER_INFO_LENGTHS) as number[];
  if (!allowed.includes(length) && length <= OTHER_INFO_LENGTHS.withOriginatorCounter) {
    reader.fail("length", `expected 2, 10, 18, 26 or more than 26 bytes, got ${length}`);
  }

  const info: OtherInformation = { messageCode: reader.u16("message code") };
  if (length === OTHER_INFO_LENGTHS.messageCodeOnly) return info;

  info.supplementaryRemotePartyId = readSystemTitleBytes(reader, "supplementary remote party ID");
  if (length === OTHER_INFO_LENGTHS.withRemotePartyId) return info;

  info.supplementaryRemotePartyCounter = reader.u64("supplementary remote party counter");
  if (length === OTHER_INFO_LENGTHS.withRemotePartyCounter) return info;

  if (length === OTHER_INFO_LENGTHS.withOriginatorCounter) {
    info.supplementaryOriginatorCounter = reader.u64("supplementary originator counter");
    return info;
  }

  info.kaCertificate = reader.take(reader.remaining, "KA certificate");
  return info;
}

export function encodeOtherInformation(info: OtherInformation): Uint8Array {
  const parts = [encodeUint16(info.messageCode, "messageCode")];
  const hasOriginatorCounter = info.supplementaryOriginatorCounter !== undefined;
  const hasCertificate = info.kaCertificate !== undefined;
  const needsCounter = hasOriginatorCounter || hasCertificate;

  // A certificate of 8 bytes or fewer would give a length of 26 or less, which decodes as other fields.
  if (info.kaCertificate !== undefined && info.kaCertificate.length <= 8) {
    throw new GbcsUsageError("kaCertificate", `expected a DER certificate, got ${info.kaCertificate.length} bytes`);
  }
  if (hasOriginatorCounter && hasCertificate) {
    throw new GbcsUsageError("otherInfo", "carries a supplementary originator counter or a KA certificate, not both");
  }
  if (info.supplementaryRemotePartyCounter !== undefined || needsCounter) {
    if (info.supplementaryRemotePartyId === undefined) {
      throw new GbcsUsageError("otherInfo", "later supplementary fields need supplementaryRemotePartyId before them");
    }
  }
  if (needsCounter && info.supplementaryRemotePartyCounter === undefined) {
    throw new GbcsUsageError(
      "otherInfo",
      "a supplementary originator counter or KA certificate needs supplementaryRemotePartyCounter before it",
    );
  }

  if (info.supplementaryRemotePartyId !== undefined) parts.push(euiBytes(info.supplementaryRemotePartyId));
  if (info.supplementaryRemotePartyCounter !== undefined) {
    parts.push(encodeUint64(info.supplementaryRemotePartyCounter, "supplementaryRemotePartyCounter"));
  }
  if (info.supplementaryOriginatorCounter !== undefined) {
    parts.push(encodeUint64(info.supplementaryOriginatorCounter, "supplementaryOriginatorCounter"));
  }
  if (info.kaCertificate !== undefined) parts.push(info.kaCertificate);

  return concatBytes(...parts);
}

function readSystemTitle(reader: ByteReader, field: string): Eui64 {
  const length = reader.u8(`${field} length`);
  if (length !== SYSTEM_TITLE_LENGTH) reader.fail(`${field} length`, `expected 8, got ${length}`);
  return readSystemTitleBytes(reader, field);
}

function readSystemTitleBytes(reader: ByteReader, field: string): Eui64 {
  return parseEui64(reader.take(SYSTEM_TITLE_LENGTH, field), field);
}

function readDateTime(reader: ByteReader): Uint8Array | undefined {
  const length = reader.u8("date-time length");
  if (length === 0) return undefined;
  if (length !== DATE_TIME_LENGTH) {
    reader.fail("date-time length", `expected 0 (absent) or 12, got ${length}`);
  }
  return reader.take(DATE_TIME_LENGTH, "date-time");
}

function readSignatureField(reader: ByteReader): SignatureField {
  if (reader.remaining === 0) return { form: "absent" };

  const length = reader.u8("signature length");
  if (length === 0) return { form: "empty" };
  if (length !== SIGNATURE_LENGTH) {
    reader.fail("signature length", `expected 0 or 64, got ${length}`);
  }
  return { form: "ecdsa", value: reader.take(SIGNATURE_LENGTH, "signature") };
}

function isCraFlag(value: number): value is CraFlag {
  return value === CraFlag.command || value === CraFlag.response || value === CraFlag.alert;
}

function hex2(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, "0");
}
