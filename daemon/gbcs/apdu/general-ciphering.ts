import { ByteReader, bytesEqual, concatBytes, encodeBerLength, toHex } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import {
  GENERAL_CIPHERING_EMPTY_HEADER,
  GENERAL_CIPHERING_TAG,
  MAC_LENGTH,
  MAC_SECURITY_HEADER,
} from "./constants.ts";

/**
 * The General Ciphering APDU that GBCS uses as a MAC wrapper:
 *
 * `DD 00 00 00 00 00 00 | ciphered-service length (BER) | 11 00000000 | General Signing APDU | MAC(12)`
 *
 * The ciphered-service length counts the security header, the inner APDU and the MAC.
 */
export interface GeneralCiphering {
  /** The inner General Signing APDU, from `DF` through its signature field. */
  apdu: Uint8Array;
  mac: Uint8Array;
}

const STRUCTURE = "General Ciphering APDU";

/** Decodes a MAC-wrapped message; the inner APDU is returned as bytes, not decoded. */
export function decodeGeneralCiphering(bytes: Uint8Array): GeneralCiphering & { apduOffset: number } {
  const reader: ByteReader = new ByteReader(bytes, STRUCTURE);

  const tag = reader.u8("tag");
  if (tag !== GENERAL_CIPHERING_TAG) reader.fail("tag", `expected 0xDD, got 0x${tag.toString(16)}`);

  // GBCS fills no General Ciphering header field. A non-zero byte here belongs to a header that GBCS does
  // not use, for example a segmented general-block-transfer message.
  const header = reader.take(GENERAL_CIPHERING_EMPTY_HEADER.length, "header");
  if (!bytesEqual(header, GENERAL_CIPHERING_EMPTY_HEADER)) {
    reader.fail("header", `expected 000000000000, got ${toHex(header)}`);
  }

  const serviceLength = reader.berLength("ciphered-service length");
  if (serviceLength !== reader.remaining) {
    reader.fail("ciphered-service length", `says ${serviceLength} bytes but ${reader.remaining} follow`);
  }
  if (serviceLength < MAC_SECURITY_HEADER.length + MAC_LENGTH + 1) {
    reader.fail("ciphered-service length", `${serviceLength} bytes is too short for header, APDU and MAC`);
  }

  // GBCS: security control 0x11 (authenticated, not encrypted) and a zero invocation counter.
  const securityHeader = reader.take(MAC_SECURITY_HEADER.length, "security header");
  if (!bytesEqual(securityHeader, MAC_SECURITY_HEADER)) {
    reader.fail("security header", `expected 1100000000, got ${toHex(securityHeader)}`);
  }

  const apduOffset = reader.offset;
  const apdu = reader.take(reader.remaining - MAC_LENGTH, "APDU");
  const mac = reader.take(MAC_LENGTH, "MAC");
  reader.end();

  return { apdu, mac, apduOffset };
}

export function encodeGeneralCiphering(wrapper: GeneralCiphering): Uint8Array {
  if (wrapper.mac.length !== MAC_LENGTH) {
    throw new GbcsUsageError("mac", `expected 12 bytes, got ${wrapper.mac.length}`);
  }

  const serviceLength = MAC_SECURITY_HEADER.length + wrapper.apdu.length + MAC_LENGTH;
  return concatBytes(
    Uint8Array.of(GENERAL_CIPHERING_TAG),
    GENERAL_CIPHERING_EMPTY_HEADER,
    encodeBerLength(serviceLength),
    MAC_SECURITY_HEADER,
    wrapper.apdu,
    wrapper.mac,
  );
}
