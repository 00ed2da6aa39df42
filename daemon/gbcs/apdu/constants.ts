/** GBCS APDU tags and fixed fields (GBCS section 4, "Message structure"). */

/** General-Signing APDU tag, the grouping header of every GBCS message. */
export const GENERAL_SIGNING_TAG = 0xdf;

/** General-Ciphering APDU tag, the MAC wrapper around a General Signing APDU. */
export const GENERAL_CIPHERING_TAG = 0xdd;

/**
 * The six bytes after `DD`: empty transaction-id, originator and recipient system titles, date-time and
 * other-information, then key-info absent. GBCS sends no other General Ciphering header.
 */
export const GENERAL_CIPHERING_EMPTY_HEADER = Uint8Array.of(0, 0, 0, 0, 0, 0);

/** Security control byte of the MAC wrapper: authentication only, no encryption. */
export const MAC_SECURITY_CONTROL = 0x11;

/** Security header of the MAC wrapper: security control and a zero invocation counter. */
export const MAC_SECURITY_HEADER = Uint8Array.of(MAC_SECURITY_CONTROL, 0, 0, 0, 0);

/** Bytes of the truncated GMAC tag that ends a General Ciphering APDU. */
export const MAC_LENGTH = 12;

/** Length byte of the transaction-id: the CRA flag and the 8-byte originator counter. */
export const TRANSACTION_ID_LENGTH = 9;

export const SYSTEM_TITLE_LENGTH = 8;

/** Bytes of a DLMS date-time (IEC 62056-6-2 4.1.6.1) in the grouping header. */
export const DATE_TIME_LENGTH = 12;

/** Bytes of a raw r‖s ECDSA P-256 signature. */
export const SIGNATURE_LENGTH = 64;

/** Command, Response, Alert flag: the first byte of the transaction-id. */
export const CraFlag = {
  command: 1,
  response: 2,
  alert: 3,
} as const;
export type CraFlag = (typeof CraFlag)[keyof typeof CraFlag];

/**
 * Other-information lengths that GBCS allows (message code 2, supplementary remote party ID 8, its counter 8,
 * supplementary originator counter 8). A longer field carries a KA certificate after the first three.
 */
export const OTHER_INFO_LENGTHS = {
  messageCodeOnly: 2,
  withRemotePartyId: 10,
  withRemotePartyCounter: 18,
  withOriginatorCounter: 26,
} as const;
