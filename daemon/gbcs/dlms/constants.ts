/** xDLMS constants that GBCS uses (IEC 62056-5-3 and the DLMS Green Book, A-XDR encoding). */

/** xDLMS APDU tags of the GBCS DLMS payloads. */
export const DlmsApduTag = {
  accessRequest: 0xd9,
  accessResponse: 0xda,
  dataNotification: 0x0f,
} as const;

/** A-XDR tags of the DLMS `Data` CHOICE. */
export const DataTag = {
  nullData: 0,
  array: 1,
  structure: 2,
  boolean: 3,
  bitString: 4,
  doubleLong: 5,
  doubleLongUnsigned: 6,
  octetString: 9,
  visibleString: 10,
  utf8String: 12,
  bcd: 13,
  integer: 15,
  long: 16,
  unsigned: 17,
  longUnsigned: 18,
  compactArray: 19,
  long64: 20,
  long64Unsigned: 21,
  enum: 22,
  float32: 23,
  float64: 24,
  dateTime: 25,
  date: 26,
  time: 27,
  deltaInteger: 28,
  deltaLong: 29,
  deltaDoubleLong: 30,
  deltaUnsigned: 31,
  deltaLongUnsigned: 32,
  deltaDoubleLongUnsigned: 33,
  dontCare: 255,
} as const;

/**
 * High byte of the long-invoke-id-and-priority in GBCS xDLMS APDUs. Every RTDS 4.5.0 DLMS APDU (472 of them)
 * carries 0x20 here and the low 24 bits of the grouping header's originator counter below it.
 */
export const INVOKE_ID_HIGH_BYTE = 0x20;

/** Choice tags of an Access-Request specification. */
export const AccessRequestKind = {
  get: 1,
  set: 2,
  action: 3,
  getWithSelection: 4,
  setWithSelection: 5,
} as const;
export type AccessRequestKind = (typeof AccessRequestKind)[keyof typeof AccessRequestKind];

/** Choice tags of an Access-Response specification. */
export const AccessResponseKind = {
  get: 1,
  set: 2,
  action: 3,
} as const;
export type AccessResponseKind = (typeof AccessResponseKind)[keyof typeof AccessResponseKind];

/** Data-Access-Result enumeration (results of get and set). */
export const DATA_ACCESS_RESULTS: Readonly<Record<number, string>> = {
  0: "success",
  1: "hardware-fault",
  2: "temporary-failure",
  3: "read-write-denied",
  4: "object-undefined",
  9: "object-class-inconsistent",
  11: "object-unavailable",
  12: "type-unmatched",
  13: "scope-of-access-violated",
  14: "data-block-unavailable",
  15: "long-get-aborted",
  16: "no-long-get-in-progress",
  17: "long-set-aborted",
  18: "no-long-set-in-progress",
  19: "data-block-number-invalid",
  250: "other-reason",
};

/** Action-Result enumeration (results of action). */
export const ACTION_RESULTS: Readonly<Record<number, string>> = {
  0: "success",
  1: "hardware-fault",
  2: "temporary-failure",
  3: "read-write-denied",
  4: "object-undefined",
  9: "object-class-inconsistent",
  11: "object-unavailable",
  12: "type-unmatched",
  13: "scope-of-access-violated",
  14: "data-block-unavailable",
  15: "long-action-aborted",
  16: "no-long-action-in-progress",
  250: "other-reason",
};

/** Bytes of an OBIS code, the COSEM logical name of an instance. */
export const OBIS_LENGTH = 6;

/** Maximum nesting of arrays and structures a decoder follows; GBCS payloads nest a few levels deep. */
export const MAX_DATA_DEPTH = 16;
